"""Hostile requests for the fuzz tests, generated with Hypothesis from real request shapes: bodies built
with the official clients' models (kubernetes.client, akeyless) and the bodies ESO sends, then mutated
(a field replaced by any JSON value, deleted, nested deep, made huge), serialised in a hostile way (NaN,
1e400, truncation, YAML, gzip, protobuf, raw bytes) and sent with hostile headers.

Each run is seeded; the emulator under test is a lab of the test's own, and the checks are the same for
both: no 5xx, no traceback in a response, a refused request writes nothing to the state journal, and the
lab still answers correctly (and restarts from its journal) afterwards.
"""
from __future__ import annotations

import http.client
import json
import random
import ssl
import urllib.parse

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

SPECIAL_TEXT = ["", "*", "..", "../../etc", "\x00", "é", "\ud800", "\udfff\ud800", "a" * 300, "Infinity",
                "system:masters", "system:serviceaccount:kube-system:default", "-1", "1e400", "0x10", "null",
                "t-0000", "p-abc", "/", "//x//", "%2F", "$patch", "²", "١", "\u202e", "<script>"]
SPECIAL_NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 32 + 1, 2 ** 63, -2 ** 63 - 1, 10 ** 30, 599, 600, 1.5, -0.0, 1e308]
# tokens json.dumps cannot produce: written into the body text in place of a sentinel string
RAW_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 400, "01", "1.", ".5", "+1", "0x1F"]
SENTINEL = "\u2603raw\u2603"



def json_value(r: random.Random, leaves: int = 8):
    """Any JSON value, hostile scalars favoured; at most about `leaves` scalars."""
    roll = r.random()
    if leaves <= 1 or roll < 0.6:
        return r.choice([None, True, False, r.randint(-2 ** 40, 2 ** 40), r.choice(SPECIAL_NUMBERS),
                         r.uniform(-1e6, 1e6), r.choice(SPECIAL_TEXT), SENTINEL,
                         "".join(chr(r.randint(32, 0x2FFF)) for _ in range(r.randint(0, 8)))])
    if roll < 0.8:
        return [json_value(r, leaves // 2) for _ in range(r.randint(0, 3))]
    return {r.choice(SPECIAL_TEXT + ["a", "b", "metadata", "spec", "data"]): json_value(r, leaves // 2)
            for _ in range(r.randint(0, 3))}


def _paths(value, limit: int = 200):
    """Paths (tuples of keys/indices) into a JSON value, the root first, at most `limit` of them."""
    found, stack = [], [((), value)]
    while stack and len(found) < limit:
        prefix, node = stack.pop()
        found.append(prefix)
        if isinstance(node, dict):
            stack.extend((prefix + (key,), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((prefix + (index,), child) for index, child in enumerate(node))
    return found


def _set(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _delete(doc, path):
    if not path:
        return doc
    node = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return doc


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def mutated(r: random.Random, base):
    """A copy of `base` with zero to three mutations."""
    doc = json.loads(json.dumps(base))
    meta = doc.get("metadata") if isinstance(doc, dict) else None
    if isinstance(meta, dict) and "name" in meta and r.random() < 0.5:
        meta["name"] = f"fz-{r.getrandbits(32):08x}"        # a new object, not a conflict with the last one
    for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
        path = r.choice(_paths(doc))
        op = r.choice(["replace"] * 6 + ["delete", "delete", "deep", "wrap", "huge", "dup"])
        if op == "replace":
            doc = _set(doc, path, json_value(r))
        elif op == "delete" and path:
            doc = _delete(doc, path)
        elif op == "deep":
            deep = json_value(r, 1)
            for _ in range(r.choice([20, 99, 101, 150, 700, 2000, 12000])):
                deep = [deep] if r.random() < 0.5 else {"a": deep}
            doc = _set(doc, path, deep)
            break                   # a deep document is sent as it is: walking it again would recurse
        elif op == "wrap":
            doc = _set(doc, path, [_get(doc, path)])
        elif op == "huge":
            doc = _set(doc, path, "x" * r.choice([1000, 10_000, 10_000, 200_000]))
            break
        elif op == "dup" and path and isinstance(_get(doc, path[:-1]), list):
            parent = _get(doc, path[:-1])
            parent.extend([parent[path[-1]]] * r.randint(1, 50))
    return doc


def _dumps(doc) -> str:
    try:
        return json.dumps(doc)
    except RecursionError:      # json.dumps recurses too: deeper than it can go is sent as brackets
        return "[" * 12000 + "]" * 12000


YAML_BODIES = [
    b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e]\n",
    b"a: &a [*a]\n", b"!!python/object:os.system {}\n", b"--- 1\n--- 2\n", b"a: 2001-01-01\n",
    b"key: !!binary aGVsbG8=\n", b"[" * 3000 + b"]" * 3000, b"a: .nan\nb: .inf\n", b"{a: 1, a: 2}\n"]


def encoded(r: random.Random, doc) -> tuple[bytes, str | None, dict]:
    """(body bytes, content type override or None, extra headers) for a JSON-shaped document."""
    style = r.choice(["json"] * 12 + ["raw-number", "truncated", "bytes", "gzip", "yaml", "bom", "empty",
                                     "invalid-utf8"])
    text = _dumps(doc)
    headers, content_type = {}, None
    if SENTINEL in text or style == "raw-number":
        text = text.replace(json.dumps(SENTINEL), r.choice(RAW_NUMBERS))
    if style == "truncated" and text:
        text = text[:r.randint(0, len(text) - 1)]
    body = text.encode("utf-8", "surrogatepass")
    if style == "bytes":
        body = r.randbytes(r.randint(0, 64))
    elif style == "gzip":
        headers["Content-Encoding"] = r.choice(["gzip", "deflate", "br"])
        body = r.choice([body, b"\x1f\x8b\x08\x00garbage", r.randbytes(16)])
    elif style == "yaml":
        content_type = "application/yaml"
        body = r.choice(YAML_BODIES + [body])
    elif style == "bom":
        body = b"\xef\xbb\xbf" + body
    elif style == "empty":
        body = r.choice([b"", b" ", b"null", b"[]", b'""', b"0"])
    elif style == "invalid-utf8":
        body = body.replace(b'"', b'"\xff', 1)
    return body, content_type, headers


def header_value(r: random.Random, valid: list[str]) -> str:
    token = valid[0].split(" ")[-1]
    return r.choice(valid * 6 + [
        "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer x.y.z", "Bearer " + "a" * 5000, "bearer  spaced",
        "Bearer \u00e9t\u00e9", f"Bearer {token}==", f"Bearer {token}!!==", "Bearer eyJhbGciOiJub25lIn0.e30."])


def encode_headers(headers: dict) -> dict:
    """Header values as bytes when they are not ASCII: http.client sends bytes as they are."""
    return {k: v.encode("utf-8", "surrogatepass") if isinstance(v, str) and not v.isascii() else v
            for k, v in headers.items()}


def batches(run_seed: int, examples: int):
    """The Hypothesis driver of a fuzz test: `examples` batches, each named by a seed Hypothesis draws (and
    records, so a failure names its batch); plain Python expands a seed into requests fast enough for
    thousands of them. Derandomized from `run_seed`; no shrinking, which would resend for minutes."""
    def decorate(test):
        return seed(run_seed)(settings(
            max_examples=examples, deadline=None, database=None, derandomize=True, report_multiple_bugs=False,
            phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))(
            given(batch=st.integers(min_value=0, max_value=2 ** 32 - 1))(test)))
    return decorate


class Wire:
    """One keep-alive HTTPS connection (http.client: a third of the cost of requests per call), reopened
    when the server closes it (as it may after refusing a body it did not read)."""

    def __init__(self, url: str, cafile: str):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.context = ssl.create_default_context(cafile=cafile)
        self.connection = None

    def send(self, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, str]:
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                if response.will_close:
                    self.close()
                return response.status, text
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
