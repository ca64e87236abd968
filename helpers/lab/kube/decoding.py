"""Request bodies as kube-apiserver decodes them: at most 3 MiB (413 beyond), JSON, YAML or protobuf by
Content-Type, no Content-Encoding (the API server does not decompress requests: a gzip body is just bytes
that are not JSON), Go's text rules (invalid UTF-8 and lone surrogates become U+FFFD), and the decoders'
limits (nesting depth, YAML aliasing) refused with the API server's 400 before anything is stored.
"""
from __future__ import annotations

from .. import limits
from . import patch, protobuf, status

MAX_BODY = 3 * 1024 * 1024      # the API server's --max-request-bytes default for a write: 3145728


def too_large(limit: int = MAX_BODY) -> status.ApiError:
    return status.ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def _summary(raw: bytes, width: int = 30) -> str:
    """How the API server quotes a body it could not decode: text when it looks like JSON, else hex."""
    if not raw:
        return "<empty>"
    cut = raw[:width]
    text = cut.decode("utf-8", errors="replace") if raw[:1] == b"{" else cut.hex()
    return text + (" ..." if len(raw) > width else "")


def _unrecognized(kind: str, why: str, raw: bytes) -> status.ApiError:
    return status.bad_request(f"the object provided is unrecognized (must be of type {kind}): {why} "
                              f"({_summary(raw)})")


async def read(request) -> bytes:
    """The raw body, at most MAX_BODY bytes (413 beyond)."""
    try:
        return await limits.read_capped(request, MAX_BODY)
    except limits.BodyError:
        raise too_large() from None


async def body(request, kind: str):
    """The decoded body of a write to a resource of `kind`. Raises ApiError 400/413/415."""
    return decode(await read(request), request.headers.get("Content-Type", "application/json"), kind)


def decode(raw: bytes, content_type: str, kind: str):
    content_type = content_type.lower()
    if not raw.strip():
        raise _unrecognized(kind, "couldn't get version/kind; json parse error: unexpected end of JSON input", raw)
    if content_type.startswith(protobuf.CONTENT_TYPE):
        return protobuf.decode(raw, kind)
    if "apply-patch" in content_type:
        raise status.unsupported_media_type(patch.ACCEPTED)
    if "yaml" in content_type:
        try:
            return limits.parse_yaml(raw, max_depth=limits.MAX_DEPTH)
        except limits.BodyError as exc:
            raise _unrecognized(kind, exc.message.removeprefix("error converting YAML to JSON: "), raw) from None
    try:
        return limits.parse_json(raw, max_depth=limits.MAX_DEPTH, go_text=True)
    except limits.BodyError as exc:
        why = exc.message
        if why.startswith("exceeded max depth"):
            # the emulator stops well before Go's 10,000 levels; the answer is the one Go gives past them
            why = "invalid character '[' exceeded max depth"
        raise _unrecognized(kind, f"couldn't get version/kind; json parse error: {why}", raw) from None
