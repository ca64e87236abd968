"""Start, stop and inspect the lab process from the outside (a notebook, the CLI, tests)."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ..config import PROJECT_ROOT, Settings
from ..display import Result
from ..errors import LabError, LabNotRunning, LabOnly, LabStartFailed

MARKER = ".workshop-lab"        # the lab process writes it into its directory; `reset` wipes nothing else

START_TIMEOUT = {"emulator": 20.0, "apiserver": 120.0}


@dataclass(frozen=True)
class LabInfo(Result):
    """Where the running lab answers, and where its credentials are."""

    dir: Path
    pid: int
    kube_mode: str
    kube_url: str
    akeyless_url: str
    akeyless_http_url: str
    components: dict = field(default_factory=dict)   # real stack: controller -> health URL or why absent

    title = "embedded lab"

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"

    @property
    def admin_token(self) -> str:
        return (self.dir / "admin.token").read_text().strip()

    def akeyless_admin(self) -> dict:
        """The admin API-key credentials the lab's Akeyless created at first start: access_id, access_key."""
        path = self.dir / "akeyless-admin.json"
        if not path.exists():
            raise LabNotRunning(f"{path} is missing: the lab's Akeyless has not bootstrapped yet")
        return json.loads(path.read_text())

    @property
    def real_eso(self) -> bool:
        """The real ESO controller runs beside this lab's API server (`lab up --kube apiserver`, built)."""
        return self.components.get("external-secrets", "").startswith("http")

    @property
    def stack(self) -> str:
        """Which stack this is, in words a run log can print."""
        if self.kube_mode == "emulator":
            return "emulator (Python Kubernetes API, ESO replayed by helpers/eso.py)"
        parts = ["etcd", "kube-apiserver"] + [name for name, where in self.components.items()
                                              if where.startswith(("http", "https"))]
        return "real stack (" + ", ".join(parts) + ")"

    @property
    def apiserver_audit_log(self) -> Path:
        return self.dir / "apiserver-audit.log"

    def summary(self) -> str:
        return f"running ({self.kube_mode} Kubernetes API, Akeyless gateway) on 127.0.0.1"

    def rows(self):
        return [("Kubernetes API", self.kube_url), ("Akeyless gateway", self.akeyless_url),
                ("Akeyless (plain HTTP)", self.akeyless_http_url), ("kubeconfig", str(self.kubeconfig)),
                ("cluster CA", str(self.ca_cert)), ("process", self.pid)] + \
            [(name, where) for name, where in self.components.items()]


@dataclass(frozen=True)
class LabStatus(Result):
    running: bool
    info: LabInfo | None
    detail: str

    title = "lab status"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.running

    def summary(self) -> str:
        return self.detail

    def rows(self):
        return self.info.rows() if self.info else []


def _settings(settings: Settings | None) -> Settings:
    return settings or Settings.load()


@contextlib.contextmanager
def _locked(lab_dir: Path):
    """Serialise up/down/reset across processes (parallel notebooks, tests)."""
    lab_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(lab_dir, 0o700)
    with open(lab_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_endpoints(lab_dir: Path) -> dict | None:
    try:
        return json.loads((lab_dir / "endpoints.json").read_text())
    except (OSError, ValueError):
        return None


def _is_lab_process(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE and \
            "helpers.lab.server" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def _healthy(lab_dir: Path, endpoints: dict) -> bool:
    context = ssl.create_default_context(cafile=str(lab_dir / "ca.crt"))
    request = urllib.request.Request(endpoints["kube"] + "/readyz",
                                     headers={"Authorization": f"Bearer {(lab_dir / 'admin.token').read_text().strip()}"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return False


def _info(lab_dir: Path, endpoints: dict) -> LabInfo:
    return LabInfo(dir=lab_dir, pid=endpoints["pid"], kube_mode=endpoints["kube_mode"], kube_url=endpoints["kube"],
                   akeyless_url=endpoints["akeyless"], akeyless_http_url=endpoints["akeyless_http"],
                   components=endpoints.get("components") or {})


def _running(lab_dir: Path) -> dict | None:
    endpoints = _read_endpoints(lab_dir)
    if endpoints and endpoints.get("pid") and _is_lab_process(endpoints["pid"]):
        return endpoints
    return None


def running_mode(settings: Settings | None = None) -> str | None:
    """The Kubernetes side ("emulator" or "apiserver") of the lab running in this lab dir, or None."""
    endpoints = _running(_settings(settings).lab_dir)
    return endpoints.get("kube_mode") if endpoints else None


def info(settings: Settings | None = None) -> LabInfo:
    """The running lab, or LabNotRunning."""
    lab_dir = _settings(settings).lab_dir
    endpoints = _running(lab_dir)
    if not endpoints:
        raise LabNotRunning(f"no lab is running in {lab_dir}")
    return _info(lab_dir, endpoints)


def up(settings: Settings | None = None, *, kube: str | None = None, timeout: float | None = None) -> LabInfo:
    """Start the lab in the background, or return the one already running (idempotent)."""
    settings = _settings(settings)
    kube = kube or settings.kube
    lab_dir = settings.lab_dir
    with _locked(lab_dir):
        endpoints = _running(lab_dir)
        if endpoints and endpoints.get("kube_mode") == kube and _healthy(lab_dir, endpoints):
            return _info(lab_dir, endpoints)
        if endpoints:  # wrong mode or unhealthy: replace it, state is on disk
            _stop(endpoints["pid"])
        return _start(lab_dir, kube, timeout or START_TIMEOUT[kube])


def _start(lab_dir: Path, kube: str, timeout: float) -> LabInfo:
    log_path = lab_dir / "lab.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "helpers.lab.server", "--dir", str(lab_dir), "--kube", kube],
                                cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabStartFailed(f"the lab process exited with code {proc.returncode}:\n{_tail(log_path)}")
        endpoints = _read_endpoints(lab_dir)
        if endpoints and endpoints.get("pid") == proc.pid and _healthy(lab_dir, endpoints):
            return _info(lab_dir, endpoints)
        time.sleep(0.02)
    _stop(proc.pid)
    raise LabStartFailed(f"the lab did not become ready within {timeout:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(pid: int, timeout: float = 15.0) -> None:
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.TimeoutExpired:
        proc.kill()
    except psutil.Error:
        pass


def down(settings: Settings | None = None) -> LabStatus:
    lab_dir = _settings(settings).lab_dir
    with _locked(lab_dir):
        endpoints = _running(lab_dir)
        if not endpoints:
            return LabStatus(False, None, "not running")
        _stop(endpoints["pid"])
        return LabStatus(False, None, f"stopped (pid {endpoints['pid']}); state kept in {lab_dir}")


def status(settings: Settings | None = None) -> LabStatus:
    lab_dir = _settings(settings).lab_dir
    endpoints = _running(lab_dir)
    if not endpoints:
        return LabStatus(False, None, f"not running (state dir {lab_dir})")
    healthy = _healthy(lab_dir, endpoints)
    lab = _info(lab_dir, endpoints)
    down_now = [name for name, where in lab.components.items() if where.startswith("http") and not _answers(where)]
    detail = "running and ready" if healthy else "process alive but /readyz does not answer"
    if lab.components:
        detail += "; " + ", ".join(f"{name} {'DOWN' if name in down_now else 'up' if where.startswith('http') else where}"
                                   for name, where in lab.components.items())
    return LabStatus(healthy and not down_now, lab, detail)


def _answers(url: str) -> bool:
    """A controller's health or metrics endpoint answers 200 (loopback; the controller-manager serves
    its own self-signed certificate, so it is not verified)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, context=context if url.startswith("https") else None, timeout=2) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError, ssl.SSLError):
        return False


def reset(settings: Settings | None = None) -> LabStatus:
    """Stop the lab and wipe its state, keys included: only in a directory the lab itself wrote."""
    lab_dir = _settings(settings).lab_dir
    if lab_dir.exists() and any(child.name != ".lock" for child in lab_dir.iterdir()) and \
            not (lab_dir / MARKER).exists():
        raise LabError(f"reset refused: {lab_dir} is not a lab directory (no {MARKER} file in it); point "
                       "WORKSHOP_LAB_DIR at the lab's own directory")
    down(settings)
    with _locked(lab_dir):
        for child in lab_dir.iterdir():
            if child.name == ".lock":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return LabStatus(False, None, f"reset: {lab_dir} wiped")


def clock_offset(settings: Settings | None = None) -> float:
    """How far the lab's clock is ahead of real time (0 when it was never moved)."""
    path = _settings(settings).lab_dir / "clock.json"
    try:
        return float(json.loads(path.read_text()).get("offset_seconds", 0))
    except (OSError, ValueError):
        return 0.0


def advance_clock(seconds: float, settings: Settings | None = None) -> float:
    """Move the lab's clock forward (to expire tokens without waiting). Lab only."""
    return _clock(settings, {"advance_seconds": seconds})


def reset_clock(settings: Settings | None = None) -> float:
    """Set the lab's clock back to real time. Lab only."""
    return _clock(settings, {"reset": True})


def _clock(settings: Settings | None, body: dict) -> float:
    settings = _settings(settings)
    if not settings.is_lab:
        raise LabOnly(f"the lab clock needs target='lab', not {settings.target!r}",
                      hint="on a real cluster, wait for `exp` or revoke the token by deleting its ServiceAccount")
    shared = settings.lab_dir / "clock.lock"     # written by `workshop up`: a room shares this clock
    if shared.exists():
        raise LabOnly(shared.read_text().strip(),
                      hint="show expiry on a lab of your own (`workshop down`, or another --lab-dir), or wait for `exp`")
    lab = info(settings)
    if lab.kube_mode != "emulator":
        raise LabOnly("the real kube-apiserver's clock cannot be moved",
                      hint="use the emulated Kubernetes API (`lab up`) to demonstrate expiry")
    request = urllib.request.Request(lab.akeyless_url + "/lab-only/clock", data=json.dumps(body).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {lab.admin_token}",
                                                             "Content-Type": "application/json"})
    try:
        context = ssl.create_default_context(cafile=str(lab.ca_cert))     # lab-only endpoints are HTTPS only
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return json.loads(response.read())["offset_seconds"]
    except urllib.error.HTTPError as exc:
        raise LabError(f"the lab refused to move its clock: {exc.read().decode(errors='replace')}") from None
