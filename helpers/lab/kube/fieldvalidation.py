"""fieldValidation (Strict, Warn, Ignore) for request bodies: unknown fields, found against the generated
schemas (schema.py), are dropped; Strict refuses the request and Warn (the default) reports each one in a
`Warning: 299` header, with the API server's messages."""
from __future__ import annotations

import json

from . import schema, status
from .options import META, OPTIONS_KIND
from .resources import Resource
from .status import FieldError

DIRECTIVES = ("", "Ignore", "Strict", "Warn")


def _go_map(value) -> str:
    """fmt's %v of a decoded JSON value (how upstream prints a strategic merge patch in its error)."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_map(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_map(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class FieldCheck:
    """One request's directive and the warnings it gathered."""

    def __init__(self, query, verb: str):
        self.directive = query.get("fieldValidation", "")
        if self.directive not in DIRECTIVES:
            raise status.invalid(OPTIONS_KIND.get(verb, "CreateOptions"), META, "", [FieldError(
                "fieldValidation", "FieldValueNotSupported", self.directive,
                "supported values: " + ", ".join(f'"{d}"' for d in DIRECTIVES))])
        self.directive = self.directive or "Warn"
        self.warnings: list[str] = []

    def _unknown(self, resource: Resource, obj) -> list[str]:
        if not isinstance(obj, dict):
            return []
        return schema.unknown_fields(obj, schema.fields(resource))

    def _report(self, unknown: list[str]) -> str | None:
        """The strict decoding error text, or None once the fields are dropped (and warned about)."""
        if not unknown:
            return None
        text = ", ".join(f'unknown field "{path}"' for path in unknown)
        if self.directive == "Strict":
            return f"strict decoding error: {text}"
        if self.directive == "Warn":
            self.warnings += [f'unknown field "{path}"' for path in unknown]
        return None

    def body(self, resource: Resource, obj):
        """A create or update body; unknown fields dropped from it (in place). Returns it."""
        error = self._report(self._unknown(resource, obj))
        if error:
            raise status.bad_request(f'{resource.kind} in version "{resource.version}" cannot be handled as a '
                                     f"{resource.kind}: {error}")
        return obj

    def patched(self, resource: Resource, obj, content_type: str, patch):
        """A patch's result; a Strict refusal quotes the patched object (the patch, for a strategic one)."""
        shown = json.dumps(obj, separators=(",", ":"), sort_keys="merge" in content_type) \
            if isinstance(obj, dict) else ""
        if "strategic" in content_type:
            shown = _go_map(patch)
        error = self._report(self._unknown(resource, obj))
        if error:
            raise status.invalid("", "", "", [FieldError("patch", "FieldValueInvalid", shown, error)])
        return obj

    def warning_values(self) -> list[str]:
        return [f"299 - {json.dumps(text)}" for text in self.warnings]
