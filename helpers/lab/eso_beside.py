"""`python -m helpers lab eso --kubeconfig FILE [--context C]`: the lab's real ESO controller, run on
this machine beside a cluster that has none (kind, an AKS cluster with a public endpoint), so a learner
with a cluster but no ESO installed still meets the real controller.

It installs what a Helm install would (CRDs, namespace, ServiceAccount, the chart's RBAC) with the
kubeconfig's identity, then runs the controller as the `external-secrets` ServiceAccount. A cluster
where ESO is already installed is left alone: the chapter uses that controller.
"""
from __future__ import annotations

import contextlib
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..cluster import Cluster
from ..display import Result
from ..errors import ConfigError, LabStartFailed
from . import eso

READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class BesideStatus(Result):
    running: bool
    detail: str
    pid: int | None = None
    server: str = ""
    log: str = ""
    metrics: str = ""

    title = "ESO controller beside a cluster"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.running

    def summary(self) -> str:
        return self.detail

    def rows(self):
        return [(k, v) for k, v in (("API server", self.server), ("process", self.pid), ("log", self.log),
                                    ("metrics", self.metrics)) if v]


def _dir(lab_dir: Path) -> Path:
    path = Path(lab_dir) / "eso-beside"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _running_pid(work: Path) -> int | None:
    try:
        pid = int((work / "pid").read_text())
        proc = psutil.Process(pid)
        return pid if proc.is_running() and "eso-controller" in " ".join(proc.cmdline()) else None
    except (OSError, ValueError, psutil.Error):
        return None


def _foreign_install(cluster: Cluster) -> bool:
    """ESO's CRDs are there and were not put there by the lab: someone installed ESO (Helm)."""
    crd = cluster.get_object("apiextensions.k8s.io/v1", "CustomResourceDefinition", None,
                             "externalsecrets.external-secrets.io")
    if crd is None:
        return False
    managers = {m.get("manager") for m in crd["metadata"].get("managedFields") or []}
    return eso.FIELD_MANAGER not in managers


def start(kubeconfig: str, context: str | None, lab_dir: Path) -> BesideStatus:
    work = _dir(lab_dir)
    if pid := _running_pid(work):
        return BesideStatus(True, f"already running (pid {pid}); stop it with `lab eso --stop`", pid,
                            log=str(work / "eso.log"))
    binary = eso.controller_binary()      # a clear error before touching the cluster
    cluster = Cluster.from_kubeconfig(str(Path(kubeconfig).expanduser()), context, timeout=30)
    if _foreign_install(cluster):
        raise ConfigError("ESO is already installed in this cluster (its CRDs were not applied by the lab)",
                          hint="the chapter uses the controller that runs there; `lab eso` is for a cluster without ESO")
    eso.install(cluster)
    creds = eso.controller_credentials(cluster)
    config = eso.write_kubeconfig(work / "kubeconfig", creds)
    port = _free_port()
    log = work / "eso.log"
    proc = eso.spawn_detached(eso.controller_argv(port), eso.controller_env(config), log)
    (work / "pid").write_text(str(proc.pid))
    metrics = f"http://127.0.0.1:{port}/metrics"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabStartFailed(f"the ESO controller exited with code {proc.returncode}; see {log}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(metrics, timeout=2) as answer:
                if answer.status == 200:
                    return BesideStatus(True, f"ESO {eso.eso_version()} running beside {cluster.server} as "
                                              f"{eso.NAMESPACE}/{eso.SERVICE_ACCOUNT}", proc.pid, cluster.server,
                                        str(log), metrics)
        time.sleep(0.2)
    proc.terminate()
    raise LabStartFailed(f"the ESO controller did not start within {READY_TIMEOUT:.0f} s; see {log}")


def status(lab_dir: Path) -> BesideStatus:
    work = _dir(lab_dir)
    pid = _running_pid(work)
    if pid is None:
        return BesideStatus(False, "no ESO controller started by `lab eso` is running")
    return BesideStatus(True, f"the lab's ESO controller runs beside the cluster (pid {pid}, started by `lab eso`)",
                        pid, log=str(work / "eso.log"))


def stop(lab_dir: Path) -> BesideStatus:
    work = _dir(lab_dir)
    pid = _running_pid(work)
    if pid is None:
        return BesideStatus(False, "no ESO controller started by `lab eso` is running")
    proc = psutil.Process(pid)
    proc.terminate()
    with contextlib.suppress(psutil.TimeoutExpired):
        proc.wait(10)
    if proc.is_running():
        proc.kill()
    (work / "pid").unlink(missing_ok=True)
    return BesideStatus(False, f"stopped the ESO controller (pid {pid})")
