"""A loopback stand-in for mermaid.ink, so mermaid-py works with no internet.

mermaid-py's `Mermaid(...)` and its `%%mermaidjs` magic fetch `<server>/svg/<base64>` and
`<server>/img/<base64>?format=png` from $MERMAID_INK_SERVER (default: the public mermaid.ink).
The lab serves those two routes on 127.0.0.1 with mermaid-cli and Debian's chromium, cached by
content, and helpers.diagrams points MERMAID_INK_SERVER here. Started by the lab process only when
mmdc and chromium are installed (endpoints.json key "mermaid_ink").
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import zlib

from aiohttp import web

from ..mmdc import MermaidCLI, RenderFailed, RendererMissing

log = logging.getLogger(__name__)

# Two cores: more than two chromium starts at once only makes every request slower.
MAX_PARALLEL_RENDERS = 2


def decode_payload(payload: str) -> str:
    """mermaid.ink's path payload -> Mermaid text: base64 (URL-safe or standard, padding optional),
    or `pako:` + base64 of zlib-deflated JSON; a JSON payload's "code" is the diagram."""
    deflated = payload.startswith("pako:")
    data = payload[5:] if deflated else payload
    data = data.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        if deflated:
            raw = zlib.decompress(raw)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"the path must be base64 (or pako:) encoded Mermaid text: {exc}") from None
    if text.lstrip().startswith("{"):
        try:
            state = json.loads(text)
        except ValueError:
            return text
        if isinstance(state, dict) and isinstance(state.get("code"), str):
            return state["code"]
    return text


def create_app(renderer: MermaidCLI) -> web.Application:
    app = web.Application()
    slots = asyncio.Semaphore(MAX_PARALLEL_RENDERS)

    async def render(request: web.Request, fmt: str) -> web.Response:
        try:
            source = decode_payload(request.match_info["payload"])
        except ValueError as exc:
            return web.Response(status=400, text=f"bad request: {exc}\n")
        if not source.strip():
            return web.Response(status=400, text="bad request: the diagram is empty\n")
        async with slots:
            try:
                image = await asyncio.to_thread(renderer.render, source, fmt)
            except RenderFailed as exc:
                # mermaid.ink answers a diagram that does not parse with 400 and the parser's message.
                return web.Response(status=400, text=f"{exc}\n")
        content_type = "image/svg+xml" if fmt == "svg" else "image/png"
        return web.Response(body=image, content_type=content_type,
                            headers={"Cache-Control": "public, max-age=86400"})

    async def svg(request: web.Request) -> web.Response:
        return await render(request, "svg")

    async def img(request: web.Request) -> web.Response:
        fmt = request.query.get("type") or request.query.get("format") or "png"
        if fmt not in ("png",):
            return web.Response(status=400, text=f"bad request: this local server renders PNG only, not {fmt!r}\n")
        return await render(request, "png")

    async def index(request: web.Request) -> web.Response:
        return web.Response(text="local mermaid.ink stand-in: GET /svg/<base64>, GET /img/<base64>\n")

    app.router.add_get("/", index)
    app.router.add_get("/svg/{payload}", svg)
    app.router.add_get("/img/{payload}", img)
    return app


def create_app_if_available() -> web.Application | None:
    """The app, or None (logged once in lab.log) when mmdc or chromium is missing."""
    try:
        renderer = MermaidCLI.find()
    except RendererMissing as exc:
        log.warning("mermaid_ink not started: %s", exc.message)
        print(f"mermaid_ink not started: {exc.message}", flush=True)
        return None
    return create_app(renderer)
