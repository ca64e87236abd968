"""JSON on the wire as the API server writes it: Go's field order, compact separators."""
from __future__ import annotations

import json

from aiohttp import web

from .store import go_order


def wire_order(value):
    """Go's field order on the wire: kind, apiVersion, metadata (ObjectMeta's own order), then the rest."""
    if isinstance(value, dict):
        if "kind" in value and "apiVersion" in value:
            head = {k: value[k] for k in ("kind", "apiVersion") if k in value}
            if isinstance(value.get("metadata"), dict):
                head["metadata"] = go_order(value["metadata"])
            value = {**head, **{k: v for k, v in value.items() if k not in head}}
        for key in ("items", "rows", "object"):
            if key in value:
                value[key] = wire_order(value[key])
        return value
    if isinstance(value, list):
        return [wire_order(v if "kind" in v or not isinstance(v.get("metadata"), dict) else
                            dict(metadata=go_order(v["metadata"]), **{k: x for k, x in v.items() if k != "metadata"}))
                if isinstance(v, dict) else v for v in value]
    return value


def json_response(body: dict, code: int = 200) -> web.Response:
    return web.Response(body=json.dumps(wire_order(body), separators=(",", ":")).encode(), status=code,
                        content_type="application/json")
