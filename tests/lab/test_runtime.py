"""The lab process from the outside: idempotent start, credentials on disk, restart, reset, loopback only."""
import json
import stat

import psutil
import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.errors import LabNotRunning, LabOnly


@pytest.fixture
def own_lab(tmp_path):
    settings = Settings.load(lab_dir=str(tmp_path / "lab"))
    yield settings
    lab_runtime.down(settings)


def test_up_is_idempotent_and_down_keeps_state(own_lab):
    first = lab_runtime.up(own_lab)
    again = lab_runtime.up(own_lab)
    assert again.pid == first.pid
    ca_before = first.ca_cert.read_bytes()
    assert "stopped" in lab_runtime.down(own_lab).summary()
    assert not lab_runtime.status(own_lab).running
    restarted = lab_runtime.up(own_lab)
    assert restarted.pid != first.pid
    assert restarted.ca_cert.read_bytes() == ca_before       # the CA a gateway trusts survives a restart
    assert restarted.kube_url == first.kube_url               # and so does the API server's address


def test_credentials_are_private(own_lab):
    info = lab_runtime.up(own_lab)
    from helpers import akeyless_client
    akeyless_client.connect_lab(info)           # a write to each emulator's journal
    assert sorted(p.name for p in (info.dir / "state").iterdir())
    for journal in (info.dir / "state").iterdir():
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600, journal
    for name in ("kubeconfig", "admin.token", "ca.key", "sa.key", "admin.key", "endpoints.json",
                 "akeyless-admin.json"):
        path = info.dir / name
        assert path.exists(), name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert stat.S_IMODE(info.dir.stat().st_mode) == 0o700


def test_listens_on_loopback_only(own_lab):
    info = lab_runtime.up(own_lab)
    listening = [c for c in psutil.Process(info.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}


def test_killed_lab_is_replaced_by_up(own_lab):
    info = lab_runtime.up(own_lab)
    psutil.Process(info.pid).kill()
    psutil.Process(info.pid).wait(5) if psutil.pid_exists(info.pid) else None
    assert not lab_runtime.status(own_lab).running
    assert lab_runtime.up(own_lab).pid != info.pid


def test_reset_wipes_everything(own_lab):
    info = lab_runtime.up(own_lab)
    lab_runtime.reset(own_lab)
    assert not (info.dir / "ca.crt").exists()
    with pytest.raises(LabNotRunning) as caught:
        lab_runtime.info(own_lab)
    assert "lab up" in caught.value.hint


def test_clock_is_lab_only(own_lab):
    with pytest.raises(LabOnly):
        lab_runtime.advance_clock(60, own_lab.with_(target="kubeconfig"))


def test_clock_moves_forward_only(own_lab):
    # the lab clock only exists beside the emulated Kubernetes API, whatever WORKSHOP_LAB_KUBE says
    emulated = own_lab.with_(kube="emulator")
    lab_runtime.up(emulated)
    assert lab_runtime.advance_clock(30, emulated) == pytest.approx(30)
    assert lab_runtime.advance_clock(30, emulated) == pytest.approx(60)
    with pytest.raises(Exception, match="only moves forward"):
        lab_runtime.advance_clock(-5, emulated)
    assert json.loads((emulated.lab_dir / "clock.json").read_text())["offset_seconds"] == pytest.approx(60)
    assert lab_runtime.reset_clock(emulated) == 0
    assert lab_runtime.clock_offset(emulated) == 0


@pytest.mark.apiserver
def test_clock_refuses_to_move_beside_the_real_api_server(own_lab):
    from helpers.lab import apiserver
    if not apiserver.available():
        pytest.skip(f"real kube-apiserver not built in {apiserver.bin_dir()}: run `bash tools/k8s/build.sh`")
    real = own_lab.with_(kube="apiserver")
    lab_runtime.up(real)
    with pytest.raises(LabOnly, match="cannot be moved"):
        lab_runtime.advance_clock(30, real)
