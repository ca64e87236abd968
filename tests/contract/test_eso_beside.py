"""`python -m helpers lab eso --kubeconfig FILE`: the lab's ESO controller run beside a cluster that has
none. The cluster here is a real-stack lab started without ESO (its ESO directory pointed elsewhere),
which is what a kind or AKS cluster without ESO looks like to `lab eso`."""
from __future__ import annotations

import pytest

from helpers import eso, eso_controller
from helpers import lab as lab_runtime
from helpers.cli import main
from helpers.config import Settings
from helpers.lab import eso_beside

from .eso_stack import needs_real_stack

pytestmark = [pytest.mark.apiserver, needs_real_stack]


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("beside")
    settings = Settings.load(target="lab", lab_dir=str(base / "lab"), kube="apiserver")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_ESO_BIN_DIR", str(base / "no-eso"))      # this lab starts without ESO
        info = lab_runtime.up(settings)
    yield settings, info
    eso_beside.stop(settings.lab_dir)
    lab_runtime.down(settings)


def test_the_cluster_has_no_eso_until_lab_eso_runs(bare_cluster, capsys):
    settings, info = bare_cluster
    assert not info.real_eso and "not built" in info.components["external-secrets"]
    with pytest.raises(SystemExit) as done:
        main(["--lab-dir", str(settings.lab_dir), "lab", "eso", "--kubeconfig", str(info.kubeconfig)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "running beside" in out and "external-secrets/external-secrets" in out
    assert eso_beside.status(settings.lab_dir).running


def test_the_controller_beside_syncs_an_external_secret(bare_cluster):
    from helpers import akeyless_client as ak
    from helpers.cluster import Cluster
    settings, info = bare_cluster
    cluster = Cluster.from_kubeconfig(str(info.kubeconfig))
    session = ak.connect_lab(info)
    ak.create_secret(session, "/beside/value", "beside-value")
    cluster.ensure_namespace("beside")
    # the controller only needs to reach the gateway: the store's credentials are refused, and ESO
    # reports that on the ExternalSecret, which is what proves it reconciles this cluster's objects
    store = eso.secret_store("beside-store", "beside", info.akeyless_url, "p-nobody", "none", "default",
                             ca_bundle_pem=info.ca_cert.read_text())
    external = eso.external_secret("beside", "beside", store, "beside", {"v": "/beside/value"})
    live = eso_controller.sync_for_real(cluster, store, external, timeout=45, progress=None)
    assert live.store.ok, live.store.summary()
    assert not live.external.timed_out and live.external.reason == "SecretSyncedError"
    assert "authentication failed" in live.external.message


def test_lab_eso_stop_stops_it(bare_cluster):
    settings, _ = bare_cluster
    assert eso_beside.stop(settings.lab_dir).summary().startswith("stopped")
    assert not eso_beside.status(settings.lab_dir).running
