"""Request bodies under hostile input, for both emulators: a size cap read before buffering, a nesting
depth checked before parsing, YAML aliasing bounded before expansion, numbers and text the way Go's
decoders take them. Each check raises BodyError; the emulators turn it into their own error shape.

Python's parsers recurse per nesting level, so depth is measured with a linear scan first: a body that
would exhaust the interpreter's stack, or make every later read of a stored object fail, never reaches them.
"""
from __future__ import annotations

import json
import math
import re

MAX_DEPTH = 100             # far beyond any object of the workshop's kinds; Python's parsers stay well clear
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BodyError(ValueError):
    """A refused body: `status` is the HTTP status (400, 413, 415) and `message` says why."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status
        self.message = message


async def read_capped(request, limit: int) -> bytes:
    """The whole body, or BodyError(413) as soon as it is known to exceed `limit` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyError(f"limit is {limit}", 413)
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyError(f"limit is {limit}", 413)
        chunks.append(chunk)


def json_depth(raw: str) -> int:
    """The deepest nesting of [ and { outside strings (linear, no recursion)."""
    depth = deepest = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', raw):
        token = match.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def _no_constant(name: str):
    raise BodyError(f"invalid character {name[0]!r} looking for beginning of value")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BodyError(f"cannot unmarshal number {text}: value out of range")
    return value


def replace_surrogates(value):
    """Lone UTF-16 surrogates (`"\\ud800"`) become U+FFFD, as Go's encoding/json decodes them."""
    stack = [value]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, child in list(items):
            if isinstance(child, str) and _SURROGATE.search(child):
                node[key] = _SURROGATE.sub("\ufffd", child)
            elif isinstance(child, (dict, list)):
                stack.append(child)
            if isinstance(key, str) and _SURROGATE.search(key):
                node[_SURROGATE.sub("\ufffd", key)] = node.pop(key)
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    return value


def has_surrogates(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH, go_text: bool = True):
    """JSON as Go reads it: NaN/Infinity and out-of-range numbers refused; invalid UTF-8 and lone
    surrogates replaced by U+FFFD when `go_text`, refused otherwise. BodyError(400) for anything wrong."""
    try:
        text = raw.decode("utf-8") if not go_text else raw.decode("utf-8", errors="replace")
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from None
    if json_depth(text) > max_depth:
        raise BodyError(f"exceeded max depth of {max_depth}")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise BodyError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:      # the scan above should make this unreachable; never let it become a 500
        raise BodyError(f"exceeded max depth of {max_depth}") from None
    if go_text:
        return replace_surrogates(value)
    if has_surrogates(value):
        raise BodyError("the body holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
    return value


# goyaml's alias budget (sigs.k8s.io/yaml/goyaml.v2 decode.go): a document may alias freely until it has
# decoded 400,000 nodes; beyond that the share of aliases allowed falls to 10% at 4,000,000. A billion-laughs
# document passes that rule for millions of nodes, which Python cannot build in reasonable time or memory, so
# the lab also refuses any aliasing document that expands beyond MAX_ALIASED_NODES (the same error).
_RATIO_LOW, _RATIO_HIGH = 400_000, 4_000_000
MAX_ALIASED_NODES = 100_000


def _allowed_alias_ratio(decoded: int) -> float:
    if decoded <= _RATIO_LOW:
        return 0.99
    if decoded >= _RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _RATIO_LOW) / (_RATIO_HIGH - _RATIO_LOW)


def parse_yaml(raw: bytes, *, max_depth: int = MAX_DEPTH):
    """One YAML document, with goyaml's limits on aliasing and a nesting depth. BodyError(400) otherwise."""
    import yaml  # only YAML clients pay for the import

    try:
        node = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise BodyError(f"error converting YAML to JSON: yaml: {exc}") from None
    except RecursionError:
        raise BodyError(f"error converting YAML to JSON: yaml: exceeded max depth of {max_depth}") from None
    if node is None:
        return None
    decoded, aliases, depth = _expanded_counts(node)
    if (aliases and decoded > MAX_ALIASED_NODES) or \
            (aliases > 100 and decoded > 1000 and aliases / decoded > _allowed_alias_ratio(decoded)):
        raise BodyError("error converting YAML to JSON: yaml: document contains excessive aliasing")
    if depth > max_depth:
        raise BodyError(f"error converting YAML to JSON: yaml: exceeded max depth of {max_depth}")
    try:
        value = yaml.SafeLoader(raw).get_single_data()
    except yaml.YAMLError as exc:
        raise BodyError(f"error converting YAML to JSON: yaml: {exc}") from None
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:      # dates, binary, NaN: JSON cannot carry them
        raise BodyError(f"error converting YAML to JSON: {exc}") from None
    return replace_surrogates(value)


def _expanded_counts(root) -> tuple[int, int, int]:
    """(nodes decoded, aliases decoded, depth) of the document once its aliases are expanded, computed on
    the composed graph (an alias is one more reference to an already composed node), never by expanding."""
    import yaml

    anchor_slot: dict[int, tuple[int, int]] = {}    # node -> (parent, slot index) where it was first written
    nodes, seen, stack = [], {id(root)}, [root]
    while stack:                                    # document order: the first reference is the anchor
        node = stack.pop()
        nodes.append(node)
        children = _children(node)
        for index, child in enumerate(children):
            if id(child) not in seen:
                seen.add(id(child))
                anchor_slot[id(child)] = (id(node), index)
        stack.extend(reversed([c for i, c in enumerate(children) if anchor_slot.get(id(c)) == (id(node), i)]))
    indegree = {id(n): 0 for n in nodes}
    for node in nodes:
        for child in _children(node):
            indegree[id(child)] += 1
    occurrences = {id(root): 1}
    ready, ordered = [root], []
    while ready:                                    # parents before children (Kahn); a cycle never gets ready
        node = ready.pop()
        ordered.append(node)
        for index, child in enumerate(_children(node)):
            occurrences[id(child)] = occurrences.get(id(child), 0) + occurrences[id(node)]
            indegree[id(child)] -= 1
            if indegree[id(child)] == 0:
                ready.append(child)
    if len(ordered) != len(nodes):
        raise BodyError("error converting YAML to JSON: yaml: anchor value contains itself")
    decoded = aliases = 0
    depth: dict[int, int] = {}
    for node in reversed(ordered):
        children = _children(node)
        decoded += occurrences[id(node)]
        for index, child in enumerate(children):
            if anchor_slot.get(id(child)) != (id(node), index):
                aliases += occurrences[id(node)]
                decoded += occurrences[id(node)]        # the alias node itself is decoded too
        below = max((depth[id(c)] for c in children), default=0)
        depth[id(node)] = below + (1 if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) else 0)
    return decoded, aliases, depth[id(root)]


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
