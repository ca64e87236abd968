"""The lab process: serves the Kubernetes API emulator and the Akeyless emulator on 127.0.0.1.

Started in the background by `helpers.lab.up()`; never imported by the client side. It writes
`endpoints.json` and `kubeconfig` once its listeners are bound, which is how `up()` knows it is ready.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import json
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from . import errorlog, limits
from .clock import ClockError, LabClock
from .pki import LabPKI, write_private
from .runtime import MARKER

HOST = "127.0.0.1"
ISSUER = "https://kubernetes.default.svc.cluster.local"
LAB_ONLY = "/lab-only/"


@dataclass
class LabContext:
    """What the emulators share inside the lab process."""

    dir: Path
    pki: LabPKI
    clock: LabClock
    issuer: str = ISSUER
    kube_mode: str = "emulator"
    kube_url: str = ""                      # known once the Kubernetes listener is bound
    extras: dict = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        path = self.dir / "state"
        path.mkdir(parents=True, exist_ok=True)
        return path


def _previous_ports(path: Path) -> dict:
    try:
        return json.loads(path.read_text()).get("ports", {})
    except (OSError, ValueError):
        return {}


def bind_loopback(preferred: int | None = None) -> socket.socket:
    """Bind on loopback, reusing the port of the previous run when it is free (a gateway config
    the learner created points at it), else any free port."""
    for port in ([preferred] if preferred else []) + [0]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            sock.close()
            continue
        sock.listen(512)
        sock.setblocking(False)
        return sock
    raise OSError("no free port on 127.0.0.1")


def kubeconfig_text(pki: LabPKI, server: str) -> str:
    def b64(path: Path) -> str:
        return base64.b64encode(Path(path).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "akeyless-lab", "cluster": {
            "server": server, "certificate-authority-data": pki.ca_b64()}}],
        "users": [
            {"name": "lab-admin", "user": {"token": pki.admin_token}},
            {"name": "lab-admin-cert", "user": {"client-certificate-data": b64(pki.admin_cert),
                                                "client-key-data": b64(pki.admin_key)}},
        ],
        "contexts": [
            {"name": "akeyless-lab", "context": {"cluster": "akeyless-lab", "user": "lab-admin"}},
            {"name": "akeyless-lab-cert", "context": {"cluster": "akeyless-lab", "user": "lab-admin-cert"}},
        ],
        "current-context": "akeyless-lab",
        "preferences": {},
    }
    return json.dumps(config, indent=2)


def _bearer_is(request: web.Request, token: str) -> bool:
    """A constant-time check of the Authorization header against the lab admin token."""
    given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given, f"Bearer {token}".encode())


@web.middleware
async def https_only_lab_endpoints(request: web.Request, handler):
    """The lab-only endpoints (clock, audit log) answer on the HTTPS listener only; over plain HTTP they do
    not exist, so the admin token is never sent in clear text."""
    if request.path.startswith(LAB_ONLY) and request.transport is not None and \
            request.transport.get_extra_info("sslcontext") is None:
        return web.json_response({"error": f"unknown command {request.path!r}: lab-only endpoints are served "
                                           "over HTTPS only"}, status=404)
    return await handler(request)


def control_app(ctx: LabContext) -> web.Application:
    """Lab-only controls (the clock). Admin token required; nothing like it exists on a real cluster."""
    app = web.Application()

    async def clock(request: web.Request) -> web.Response:
        if not _bearer_is(request, ctx.pki.admin_token):
            return web.json_response({"error": "lab-only endpoint: the lab admin token is required"}, status=401)
        if request.method == "POST":
            usage = 'body must be {"advance_seconds": <positive number>} or {"reset": true}'
            try:
                body = json.loads(await limits.read_capped(request, 64 * 1024))
                if not isinstance(body, dict):
                    raise ClockError("the body is not a JSON object")
                if body.get("reset") is True:
                    ctx.clock.reset()
                else:
                    ctx.clock.advance(body.get("advance_seconds"))
            except ClockError as exc:
                return web.json_response({"error": f"{usage}: {exc}"}, status=400)
            except limits.BodyError:
                return web.json_response({"error": f"{usage}: the body is larger than 64 KiB"}, status=413)
            except (ValueError, UnicodeDecodeError, RecursionError):
                return web.json_response({"error": f"{usage}: the body is not JSON"}, status=400)
        return web.json_response({"offset_seconds": ctx.clock.offset, "now": ctx.clock.now()})

    async def unknown(request: web.Request) -> web.Response:
        return web.json_response({"error": f"unknown command {request.path!r}: the lab-only endpoints are "
                                           "/lab-only/clock, /lab-only/audit-log and /lab-only/token-reviews"},
                                 status=404)

    app.router.add_route("GET", "/clock", clock)
    app.router.add_route("POST", "/clock", clock)
    app.router.add_route("*", "/{tail:.*}", unknown)
    return app


async def _bound_log_periodically() -> None:
    while True:
        await asyncio.sleep(30)
        errorlog.bound()


async def serve(lab_dir: Path, kube_mode: str) -> None:
    errorlog.configure(lab_dir / "lab.log")
    (lab_dir / MARKER).touch()
    pki = LabPKI.load_or_create(lab_dir)
    ctx = LabContext(dir=lab_dir, pki=pki, clock=LabClock(lab_dir / "clock.json"), kube_mode=kube_mode)
    endpoints_file = lab_dir / "endpoints.json"
    previous = _previous_ports(endpoints_file)
    endpoints_file.unlink(missing_ok=True)
    runners: list[web.AppRunner] = []
    ports: dict[str, int] = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def start(app: web.Application, listeners: list[tuple[str, object]]) -> list[str]:
        """Serve one app on one or more loopback listeners: (name, ssl context or None)."""
        # no auto_decompress: like the API server and the gateway, the lab takes request bodies as sent
        runner = web.AppRunner(app, access_log=None, handle_signals=False, auto_decompress=False)
        await runner.setup()
        runners.append(runner)
        urls = []
        for name, ssl_context in listeners:
            sock = bind_loopback(previous.get(name))
            await web.SockSite(runner, sock, ssl_context=ssl_context).start()
            ports[name] = sock.getsockname()[1]
            urls.append(f"{'https' if ssl_context else 'http'}://{HOST}:{ports[name]}")
        return urls

    try:
        if kube_mode == "apiserver":
            from .apiserver import start_apiserver  # built from the Go module proxy; see tools/k8s
            ctx.kube_url = await start_apiserver(ctx, previous, ports)
        else:
            from .kube import create_app as create_kube_app
            [ctx.kube_url] = await start(create_kube_app(ctx), [("kube", pki.server_ssl_context())])
        from .akeyless import create_app as create_akeyless_app
        akeyless_app = create_akeyless_app(ctx)
        akeyless_app.middlewares.append(https_only_lab_endpoints)
        akeyless_app.add_subapp(LAB_ONLY, control_app(ctx))
        akeyless_url, akeyless_http_url = await start(akeyless_app, [
            ("akeyless", pki.server_ssl_context(request_client_cert=False)), ("akeyless_http", None)])

        # Optional: a local mermaid.ink for mermaid-py, only when mmdc + chromium are installed.
        from .mermaid_ink import create_app_if_available as create_mermaid_ink_app
        mermaid_ink_app = create_mermaid_ink_app()
        optional = {}
        if mermaid_ink_app is not None:
            [optional["mermaid_ink"]] = await start(mermaid_ink_app, [("mermaid_ink", None)])

        write_private(lab_dir / "kubeconfig", kubeconfig_text(pki, ctx.kube_url))
        write_private(endpoints_file, json.dumps({
            "pid": os.getpid(), "kube_mode": kube_mode, "kube": ctx.kube_url,
            "akeyless": akeyless_url, "akeyless_http": akeyless_http_url,
            "ports": ports, "started_at": time.time(), **optional,
            # the real stack's controllers (apiserver.py): where each answers, or why it is absent
            "components": ctx.extras.get("components", {}),
        }, indent=2))
        bounder = asyncio.create_task(_bound_log_periodically())
        await stop.wait()
        bounder.cancel()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        for stopper in ctx.extras.get("on_stop", []):
            await stopper()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.lab.server")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--kube", default="emulator", choices=["emulator", "apiserver"])
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    os.chmod(args.dir, 0o700)
    asyncio.run(serve(args.dir.resolve(), args.kube))


if __name__ == "__main__":
    main()
