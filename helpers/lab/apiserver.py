"""The lab's "real" Kubernetes side: upstream kube-apiserver plus etcd, started by the lab process.

Used by `lab up --kube apiserver` instead of the emulator. The binaries are built from the Go
module proxy by tools/k8s/build.sh into a cache outside the repository; this module only runs them,
envtest-style: no kubelet, scheduler or controller-manager, so there are no default
ServiceAccounts, no token controller, no garbage collection.

The API server gets the lab's own key material, so everything a learner copied from the emulated
lab (the CA, the admin token, the kubeconfig) works unchanged against it.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import re
import signal
import socket
import ssl
import time
from pathlib import Path

import aiohttp

from ..config import PROJECT_ROOT
from ..errors import LabStartFailed
from .pki import write_private

HOST = "127.0.0.1"
BUILD_SCRIPT = PROJECT_ROOT / "tools" / "k8s" / "build.sh"
READY_TIMEOUT = 90.0   # the lab runtime waits 120 s for the whole lab; leave it room to report
STOP_TIMEOUT = 10.0


def k8s_version() -> str:
    """The pinned Kubernetes version, read from the build script so there is one place to bump it."""
    match = re.search(r"^K8S_VERSION=(v[0-9.]+)$", BUILD_SCRIPT.read_text(), re.M)
    if not match:
        raise LabStartFailed(f"{BUILD_SCRIPT} has no K8S_VERSION=vX.Y.Z line")
    return match.group(1)


def bin_dir() -> Path:
    """Where tools/k8s/build.sh puts the binaries (same rule as the script: outside the clone, so a
    fresh clone on the same machine reuses them)."""
    if os.environ.get("WORKSHOP_K8S_BIN_DIR"):
        return Path(os.environ["WORKSHOP_K8S_BIN_DIR"])
    cache = Path(os.environ.get("WORKSHOP_CACHE") or Path.home() / ".cache" / "akeyless-workshop")
    return cache / f"k8s-{k8s_version()}"


def binaries() -> dict[str, Path]:
    """The kube-apiserver and etcd paths, or LabStartFailed naming the missing one and the build command."""
    found = {name: bin_dir() / name for name in ("kube-apiserver", "etcd")}
    missing = [str(path) for path in found.values() if not os.access(path, os.X_OK)]
    if missing:
        raise LabStartFailed(
            f"the real Kubernetes API server is not built: missing {', '.join(missing)}",
            hint=f"build it once with `bash {BUILD_SCRIPT.relative_to(PROJECT_ROOT)}` (Go >= 1.24, module proxy; "
                 "a cold build takes a while), or use the emulator: `lab up` without --kube apiserver")
    return found


def available() -> bool:
    try:
        binaries()
    except LabStartFailed:
        return False
    return True


def _free_port(preferred: int | None, taken: set[int]) -> int:
    """A free loopback port, the preferred one (from the previous run) when it is still free.
    The port is released before the child binds it; the window is tiny and loopback-only."""
    for port in ([preferred] if preferred and preferred not in taken else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            chosen = sock.getsockname()[1]
            if chosen not in taken:
                return chosen
    raise LabStartFailed("no free port on 127.0.0.1 for the API server or etcd")


def _die_with_parent() -> None:
    """Runs in the child before exec: if the lab process is killed outright (SIGKILL after the
    runtime's stop timeout), the kernel terminates etcd and the API server too."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def _spawn(argv: list[str], log_path: Path) -> asyncio.subprocess.Process:
    with open(log_path, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        return await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent)


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _tail(path: Path, lines: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _wait_ready(name: str, proc: asyncio.subprocess.Process, url: str, log_path: Path,
                      deadline: float, *, ssl_context: ssl.SSLContext | bool = False,
                      headers: dict | None = None) -> None:
    """Poll `url` until it answers 200; fail early, with the log's tail, if the process exits."""
    last = "no answer yet"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise LabStartFailed(f"{name} exited with code {proc.returncode} while starting; "
                                     f"end of {log_path}:\n{_tail(log_path)}")
            try:
                async with session.get(url, ssl=ssl_context, headers=headers) as response:
                    if response.status == 200:
                        return
                    last = f"HTTP {response.status}: {(await response.text())[-300:]}"
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                last = repr(exc)
            await asyncio.sleep(0.2)
    raise LabStartFailed(f"{name} did not become ready at {url} ({last}); end of {log_path}:\n{_tail(log_path)}")


def _etcd_argv(etcd: Path, data_dir: Path, client_port: int, peer_port: int) -> list[str]:
    client, peer = f"http://{HOST}:{client_port}", f"http://{HOST}:{peer_port}"
    return [str(etcd), "--name", "lab", "--data-dir", str(data_dir),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"lab={peer}", "--initial-cluster-state", "new",
            # a throwaway single-member store: durability is not worth the fsync latency
            "--unsafe-no-fsync", "--log-level", "warn"]


def _apiserver_argv(ctx, apiserver: Path, work: Path, port: int, etcd_port: int) -> list[str]:
    pki = ctx.pki
    tokens = work / "tokens.csv"
    # static token file: token,user,uid,"groups" - the kubeconfig's bearer token is a cluster admin
    write_private(tokens, f'{pki.admin_token},lab-admin,lab-admin,"system:masters"\n')
    return [
        str(apiserver),
        f"--etcd-servers=http://{HOST}:{etcd_port}",
        f"--bind-address={HOST}", f"--advertise-address={HOST}", f"--secure-port={port}",
        f"--cert-dir={work}",
        f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--token-auth-file={tokens}",
        # RBAC is required: its post-start hook is what creates system:auth-delegator & co.
        "--authorization-mode=RBAC",
        f"--service-account-issuer={ctx.issuer}", f"--api-audiences={ctx.issuer}",
        f"--service-account-key-file={pki.sa_pub}", f"--service-account-signing-key-file={pki.sa_key}",
        "--service-cluster-ip-range=10.0.0.0/24",
        # no controller-manager runs, so nothing would create the default ServiceAccount it waits for
        "--disable-admission-plugins=ServiceAccount",
        # a loopback advertise address may not be written into the kubernetes Endpoints
        "--endpoint-reconciler-type=none",
        "--enable-priority-and-fairness=false", "--profiling=false",
    ]


async def start_apiserver(ctx, previous_ports: dict, ports: dict) -> str:
    """Start etcd and kube-apiserver on loopback, wait for /readyz, register their stopper in
    ctx.extras["on_stop"], record their ports in `ports`, and return the API server's https URL."""
    found = binaries()
    work = ctx.dir / "apiserver"
    work.mkdir(parents=True, exist_ok=True)
    data_dir = ctx.dir / "etcd"
    deadline = time.monotonic() + READY_TIMEOUT

    taken: set[int] = set()
    for name in ("kube", "etcd", "etcd_peer"):
        ports[name] = _free_port(previous_ports.get(name), taken)
        taken.add(ports[name])

    processes: list[asyncio.subprocess.Process] = []

    async def stop() -> None:
        for proc in reversed(processes):   # API server first, then its store
            await _terminate(proc)

    # registered before anything starts, so a failed start still cleans up (server.py runs on_stop
    # in its `finally`)
    ctx.extras.setdefault("on_stop", []).append(stop)

    etcd_log = ctx.dir / "etcd.log"
    etcd = await _spawn(_etcd_argv(found["etcd"], data_dir, ports["etcd"], ports["etcd_peer"]), etcd_log)
    processes.append(etcd)
    await _wait_ready("etcd", etcd, f"http://{HOST}:{ports['etcd']}/health", etcd_log, deadline)

    api_log = ctx.dir / "apiserver.log"
    apiserver = await _spawn(_apiserver_argv(ctx, found["kube-apiserver"], work, ports["kube"], ports["etcd"]),
                             api_log)
    processes.append(apiserver)
    url = f"https://{HOST}:{ports['kube']}"
    await _wait_ready("kube-apiserver", apiserver, url + "/readyz", api_log, deadline,
                      ssl_context=ctx.pki.client_ssl_context(),
                      headers={"Authorization": f"Bearer {ctx.pki.admin_token}"})
    return url
