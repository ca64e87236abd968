"""The lab's "real" Kubernetes side: upstream etcd, kube-apiserver, kube-controller-manager and the
External Secrets Operator, started by the lab process.

Used by `lab up --kube apiserver` instead of the emulator. The binaries are built from the Go
module proxy by tools/k8s/build.sh and tools/eso/build.sh into a cache outside the repository; this
module only runs them. There is no kubelet and no scheduler (Pods stay Pending). The
controller-manager runs the controllers this workshop meets: the `default` ServiceAccount of every
namespace, `kube-root-ca.crt`, garbage collection of owned objects, namespace deletion and the
legacy token controllers. When kube-controller-manager or ESO is not built, the lab runs without it
(envtest-style) and `lab status` says so.

The API server gets the lab's own key material, so everything a learner copied from the emulated
lab (the CA, the admin token, the kubeconfig) works unchanged against it. It writes an audit log
(.lab/apiserver-audit.log) of the calls the chapter shows: TokenRequests, TokenReviews, and what ESO
does to Secrets and ExternalSecrets.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import ssl
import time
from pathlib import Path

import aiohttp

from ..config import PROJECT_ROOT
from ..errors import LabStartFailed
from . import eso, gobuild
from .pki import write_private

HOST = "127.0.0.1"
BUILD_SCRIPT = PROJECT_ROOT / "tools" / "k8s" / "build.sh"
READY_TIMEOUT = 90.0   # the lab runtime waits 120 s for the whole lab; leave it room to report
STOP_TIMEOUT = 10.0


def k8s_version() -> str:
    return gobuild.pinned_version(BUILD_SCRIPT, "K8S_VERSION")


def bin_dir() -> Path:
    """Where tools/k8s/build.sh puts the binaries."""
    return gobuild.cache_dir("WORKSHOP_K8S_BIN_DIR", f"k8s-{k8s_version()}")


def controller_manager() -> Path | None:
    """kube-controller-manager when it is built (older caches hold only kube-apiserver and etcd)."""
    path = bin_dir() / "kube-controller-manager"
    return path if os.access(path, os.X_OK) else None


def real_stack_available() -> bool:
    """Every binary of the full real stack is built: etcd, kube-apiserver, kube-controller-manager, ESO."""
    return available() and controller_manager() is not None and eso.available()


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


async def _spawn(argv: list[str], log_path: Path, env: dict | None = None) -> asyncio.subprocess.Process:
    with open(log_path, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        return await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent, env=env)


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


AUDIT_LOG = "apiserver-audit.log"
CONTROLLERS = ["serviceaccount-controller", "serviceaccount-token-controller",
               "root-ca-certificate-publisher-controller", "garbage-collector-controller", "namespace-controller",
               "legacy-serviceaccount-token-cleaner-controller"]


def audit_policy() -> dict:
    """What the API server records. Never a request or response body that carries a credential: a
    TokenRequest's request (audiences, lifetime, bound object) is safe, its response (the JWT) is not;
    a TokenReview's request IS a JWT, so it is logged without bodies; Secrets never with bodies."""
    eso_user = f"system:serviceaccount:{eso.NAMESPACE}:{eso.SERVICE_ACCOUNT}"
    return {
        "apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
        "rules": [
            {"level": "Request", "verbs": ["create"], "resources": [{"group": "", "resources": ["serviceaccounts/token"]}]},
            {"level": "Metadata", "resources": [{"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
            {"level": "None", "verbs": ["watch", "list"]},
            {"level": "Metadata", "users": [eso_user],
             "resources": [{"group": "", "resources": ["secrets", "serviceaccounts", "events"]},
                           {"group": "external-secrets.io"}]},
            {"level": "Metadata", "verbs": ["create", "update", "patch", "delete"],
             "resources": [{"group": "external-secrets.io"}]},
            {"level": "None"},
        ],
    }


def _apiserver_argv(ctx, apiserver: Path, work: Path, port: int, etcd_port: int, *, with_kcm: bool) -> list[str]:
    pki = ctx.pki
    policy = work / "audit-policy.json"
    policy.write_text(json.dumps(audit_policy(), indent=1))
    audit = [f"--audit-policy-file={policy}", f"--audit-log-path={ctx.dir / AUDIT_LOG}",
             "--audit-log-format=json", "--audit-log-mode=blocking",     # written before the reply: readable at once
             "--audit-log-maxsize=50", "--audit-log-maxbackup=1"]
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
        # with a controller-manager, the ServiceAccount admission plugin works as on AKS (it adds the
        # projected token volume to Pods); without one nothing would create the `default` SA it waits for
        *([] if with_kcm else ["--disable-admission-plugins=ServiceAccount"]),
        # a loopback advertise address may not be written into the kubernetes Endpoints
        "--endpoint-reconciler-type=none",
        "--enable-priority-and-fairness=false", "--profiling=false",
        *audit,
    ]


def _kcm_argv(ctx, kcm: Path, work: Path, kube_url: str, port: int) -> list[str]:
    """kube-controller-manager with its own identity (a client certificate for
    system:kube-controller-manager, which the bootstrap RBAC grants), a ServiceAccount per controller,
    serving its health endpoint on loopback only."""
    cert, key = ctx.pki.client_certificate("kube-controller-manager", "system:kube-controller-manager")
    kubeconfig = work / "kube-controller-manager.kubeconfig"
    write_private(kubeconfig, json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "kcm",
        "clusters": [{"name": "lab", "cluster": {"server": kube_url, "certificate-authority": str(ctx.pki.ca_cert)}}],
        "users": [{"name": "kcm", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "kcm", "context": {"cluster": "lab", "user": "kcm"}}]}))
    return [str(kcm), f"--kubeconfig={kubeconfig}", f"--controllers={','.join(CONTROLLERS)}",
            "--use-service-account-credentials=true", "--leader-elect=false",
            f"--service-account-private-key-file={ctx.pki.sa_key}", f"--root-ca-file={ctx.pki.ca_cert}",
            f"--bind-address={HOST}", f"--secure-port={port}", f"--cert-dir={work / 'kcm-serving'}",
            "--concurrent-gc-syncs=2", "--profiling=false"]


async def start_apiserver(ctx, previous_ports: dict, ports: dict) -> str:
    """Start etcd and kube-apiserver on loopback, wait for /readyz, register their stopper in
    ctx.extras["on_stop"], record their ports in `ports`, and return the API server's https URL."""
    found = binaries()
    work = ctx.dir / "apiserver"
    work.mkdir(parents=True, exist_ok=True)
    data_dir = ctx.dir / "etcd"
    deadline = time.monotonic() + READY_TIMEOUT

    taken: set[int] = set()
    for name in ("kube", "etcd", "etcd_peer", "kcm", "eso_metrics"):
        ports[name] = _free_port(previous_ports.get(name), taken)
        taken.add(ports[name])

    processes: list[asyncio.subprocess.Process] = []

    async def stop() -> None:
        for proc in reversed(processes):   # API server first, then its store
            await _terminate(proc)

    # registered before anything starts, so a failed start still cleans up (server.py runs on_stop
    # in its `finally`)
    ctx.extras.setdefault("on_stop", []).append(stop)

    started = time.monotonic()

    def phase(name: str) -> None:   # one line per stage in lab.log: where a slow start spends its time
        print(f"real stack: {name} ready after {time.monotonic() - started:.2f} s", flush=True)

    etcd_log = ctx.dir / "etcd.log"
    etcd = await _spawn(_etcd_argv(found["etcd"], data_dir, ports["etcd"], ports["etcd_peer"]), etcd_log)
    processes.append(etcd)
    await _wait_ready("etcd", etcd, f"http://{HOST}:{ports['etcd']}/health", etcd_log, deadline)
    phase("etcd")

    api_log = ctx.dir / "apiserver.log"
    kcm = controller_manager()
    apiserver = await _spawn(_apiserver_argv(ctx, found["kube-apiserver"], work, ports["kube"], ports["etcd"],
                                             with_kcm=kcm is not None), api_log)
    processes.append(apiserver)
    url = f"https://{HOST}:{ports['kube']}"
    await _wait_ready("kube-apiserver", apiserver, url + "/readyz", api_log, deadline,
                      ssl_context=ctx.pki.client_ssl_context(),
                      headers={"Authorization": f"Bearer {ctx.pki.admin_token}"})
    phase("kube-apiserver")
    components = {"kube-controller-manager": "not built (bash tools/k8s/build.sh)",
                  "external-secrets": "not built (make eso)"}
    ctx.extras["components"] = components

    if kcm is not None:
        kcm_log = ctx.dir / "kube-controller-manager.log"
        kcm_proc = await _spawn(_kcm_argv(ctx, kcm, work, url, ports["kcm"]), kcm_log)
        processes.append(kcm_proc)
        components["kube-controller-manager"] = f"https://{HOST}:{ports['kcm']}/healthz"
    if eso.available():
        await _start_eso(ctx, url, ports["eso_metrics"], deadline, processes, phase)
        components["external-secrets"] = f"http://{HOST}:{ports['eso_metrics']}/metrics"
    if kcm is not None:     # started first, checked last: it comes up while the CRDs are applied
        await _wait_ready("kube-controller-manager", kcm_proc, components["kube-controller-manager"],
                          ctx.dir / "kube-controller-manager.log", deadline, ssl_context=_insecure())
        phase("kube-controller-manager")
    return url


def _insecure() -> ssl.SSLContext:
    """For the controller-manager's health endpoint only: a loopback port it serves with a
    self-signed certificate of its own."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _admin_cluster(ctx, url: str):
    from kubernetes import client as k8s

    from ..cluster import Cluster
    conf = k8s.Configuration()
    conf.host = url
    conf.ssl_ca_cert = str(ctx.pki.ca_cert)
    conf.api_key = {"BearerToken": f"Bearer {ctx.pki.admin_token}"}
    return Cluster(k8s.ApiClient(conf), identity="lab-admin", timeout=30)


async def _start_eso(ctx, url: str, metrics_port: int, deadline: float, processes: list, phase) -> None:
    """Install ESO's CRDs and RBAC as a Helm install would, then run the controller as its own
    ServiceAccount; ready when its metrics endpoint answers (the manager has started)."""
    def prepare() -> Path:
        cluster = _admin_cluster(ctx, url)
        with cluster.api_client:
            eso.install(cluster)
            creds = eso.controller_credentials(cluster)
        return eso.write_kubeconfig(ctx.dir / "apiserver" / "eso.kubeconfig", creds)

    kubeconfig = await asyncio.to_thread(prepare)
    phase("ESO's CRDs and RBAC")
    log_path = ctx.dir / "eso.log"
    proc = await _spawn(eso.controller_argv(metrics_port), log_path, env=eso.controller_env(kubeconfig))
    processes.append(proc)
    await _wait_ready("the ESO controller", proc, f"http://{HOST}:{metrics_port}/metrics", log_path, deadline)
    phase("the ESO controller")
