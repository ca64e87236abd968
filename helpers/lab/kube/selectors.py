"""List filtering: label selectors (=, ==, !=, in, notin, exists, !exists) and the field selectors every
kind supports (metadata.name, metadata.namespace, plus Secret type)."""
from __future__ import annotations

import re

from . import status
from .resources import SECRETS, Resource

_SET = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _label_matcher(term: str):
    match = _SET.match(term)
    if match:
        key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in term:
            key, value = (s.strip() for s in term.split(op, 1))
            if not key:
                break
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    else:
        if term.startswith("!") and term[1:].strip():
            key = term[1:].strip()
            return lambda labels: key not in labels
        if re.match(r"^[^\s!=(),]+$", term):
            return lambda labels: term in labels
    raise status.bad_request(f"unable to parse requirement: {term!r}: use key=value, key!=value, key, !key, "
                             "key in (a,b) or key notin (a,b)")


def _field_value(resource: Resource, obj: dict, field: str):
    if field == "metadata.name":
        return obj["metadata"].get("name", "")
    if field == "metadata.namespace":
        return obj["metadata"].get("namespace", "")
    if resource is SECRETS and field == "type":
        return obj.get("type", "")
    known = '"metadata.name", "metadata.namespace"' + (', "type"' if resource is SECRETS else "")
    raise status.bad_request(f'"{field}" is not a known field selector: only {known}')


def select(items: list[dict], label_selector: str, field_selector: str, resource: Resource) -> list[dict]:
    label_terms = [_label_matcher(t) for t in _split(label_selector)]
    field_terms = []
    for term in _split(field_selector):
        op = "!=" if "!=" in term else ("==" if "==" in term else "=")
        if op not in term:
            raise status.bad_request(f"invalid field selector {term!r}: use field=value or field!=value")
        field, value = (s.strip() for s in term.split(op, 1))
        field_terms.append((field, op == "!=", value))
    for field, _, _ in field_terms:        # reject unknown fields even when nothing is listed
        _field_value(resource, {"metadata": {}}, field)
    result = []
    for obj in items:
        labels = obj["metadata"].get("labels") or {}
        if not all(match(labels) for match in label_terms):
            continue
        if not all((_field_value(resource, obj, f) != v) if neg else (_field_value(resource, obj, f) == v)
                   for f, neg, v in field_terms):
            continue
        result.append(obj)
    return result
