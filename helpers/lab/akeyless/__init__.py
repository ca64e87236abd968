"""The lab's Akeyless gateway / SaaS emulator.

Contract with the lab process (helpers/lab/server.py): `create_app(ctx: LabContext) -> aiohttp.web.Application`.
Every V2 command is `POST /<command>` with a JSON body, served under `/`, `/v2` and `/api/v2`;
replies are always JSON, errors `{"error": "..."}`. Lab-only reads live under `/lab-only/`.
"""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass

from aiohttp import web

from .. import errorlog, limits
from ..pki import write_private
from .exceptions import AkeylessAPIError, BadRequest, NotFound
from .models import Call, State
from .reviewer import Reviewer
from .urls import COMMANDS, LAB_ONLY, command_of

ADMIN_FILE = "akeyless-admin.json"
_JSON = "application/json"
MAX_BODY = 1024 * 1024          # a request body; the largest legitimate one (a secret value) is far smaller


@dataclass
class Gateway:
    state: State
    reviewer: Reviewer


def _reply(payload, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload, separators=(",", ":")).encode(), status=status, content_type=_JSON)


def _write_admin(ctx, state: State) -> None:
    """The bootstrap admin's credentials, for the learner and the notebooks (0600)."""
    path = ctx.dir / ADMIN_FILE
    creds = state.bootstrap()
    if creds is None and not path.exists():
        creds = state.rotate_admin_key()      # the file was lost: only a hash is kept, so issue a new key
    if creds is not None:
        write_private(path, json.dumps({"access_id": creds["access_id"], "access_key": creds["access_key"]}, indent=2))


async def _body(request: web.Request) -> dict:
    """A command's JSON object: at most MAX_BODY bytes (413), UTF-8 text, no NaN/Infinity, bounded depth."""
    try:
        raw = await limits.read_capped(request, MAX_BODY)
        body = limits.parse_json(raw, go_text=False) if raw.strip() else {}
    except limits.BodyError as exc:
        if exc.status == 413:
            raise AkeylessAPIError(f"the request body is larger than {MAX_BODY} bytes", status=413) from None
        raise BadRequest(f"the request body is not valid JSON: {exc.message}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def create_app(ctx) -> web.Application:
    state = State(ctx.state_dir, now=ctx.clock.now)
    _write_admin(ctx, state)
    gateway = Gateway(state, Reviewer())

    async def stop() -> None:
        await gateway.reviewer.close()
        state.close()

    ctx.extras.setdefault("on_stop", []).append(stop)

    async def handle(table: dict, command: str, request: web.Request) -> web.Response:
        call = Call(command or "<none>", user_agent=request.headers.get("User-Agent", "")[:200],
                    started=state.now())
        status, error = 200, ""
        try:
            handler = table.get(command)
            if handler is None:
                raise NotFound(f"unknown command {command!r}: POST a V2 command such as /auth or "
                               "/get-secret-value under /, /v2 or /api/v2", status=404)
            body = await _body(request)
            result = handler(gateway, body, call)
            if inspect.isawaitable(result):
                result = await result
            payload = result
        except AkeylessAPIError as exc:
            status, error = exc.status, exc.message
            payload = {"error": error}
        except Exception as exc:  # a bug in the emulator: still JSON, still audited, never a traceback
            # the exception's text stays in the log: it may quote a secret value or a token
            errorlog.report(exc, command)
            status, error = 500, f"internal error in the lab's Akeyless gateway while handling {command} " \
                                 "(traceback in lab.log)"
            payload = {"error": error}
        if status >= 400:
            call.allowed = False
        state.record(call, status, error)
        return _reply(payload, status)

    async def v2(request: web.Request) -> web.Response:
        if request.method != "POST":
            return _reply({"error": f"unknown command: {request.method} {request.path}: every Akeyless V2 "
                                    "command is a POST with a JSON body"}, 405)
        return await handle(COMMANDS, command_of(request.path), request)

    def lab_only(name: str):
        async def serve(request: web.Request) -> web.Response:
            return await handle(LAB_ONLY, name, request)
        return serve

    app = web.Application(client_max_size=MAX_BODY)
    app["akeyless"] = gateway
    for name in LAB_ONLY:
        app.router.add_post(f"/lab-only/{name}", lab_only(name))
    app.router.add_route("*", "/{tail:.*}", v2)
    return app
