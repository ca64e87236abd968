"""metav1.Status errors with the real API server's reasons, codes and message formats.

Clients branch on `reason` and `code` (kubernetes.client.ApiException, kubectl's error printer), and
learners read `message`, so both follow apimachinery's `errors` package word for word.
"""
from __future__ import annotations

import json

from .resources import Resource


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason}
        if self.details is not None:        # {} is sent as {}: generic errors carry empty details upstream
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(resource: Resource | None, name: str = "", **more) -> dict:
    details = {}
    if name:
        details["name"] = name
    if resource is not None:
        if resource.group:
            details["group"] = resource.group
        details["kind"] = resource.plural      # apimachinery puts the resource, not the kind, here
    details.update({k: v for k, v in more.items() if v})
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name))


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource.qualified} "{name}" already exists',
                    _details(resource, name))


def conflict(resource: Resource, name: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {resource.qualified} "{name}": the object has been '
                    "modified; please apply your changes to the latest version and try again",
                    _details(resource, name))


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(resource: Resource | None, name: str, why: str) -> ApiError:
    if resource is None:
        return ApiError(403, "Forbidden", f"forbidden: {why}", {})
    subject = f'{resource.qualified} "{name}"' if name else resource.qualified
    return ApiError(403, "Forbidden", f"{subject} is forbidden: {why}", _details(resource, name))


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def page_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def not_acceptable(available: str) -> ApiError:
    return ApiError(406, "NotAcceptable", f"406: Not Acceptable\n\nAvailable representations: {available}", {})


def unsupported_media_type(accepted: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f"the body of the request was in an unknown format - accepted media types include: {accepted}")


def unsupported_patch_type() -> ApiError:
    """A PATCH in a media type no patch route consumes: the API server's router answers before any handler."""
    return ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {})


def go_quote(value) -> str:
    """Go's %q for a string; JSON escaping agrees with it for the printable text names are made of."""
    return json.dumps(value, ensure_ascii=False)


class FieldError:
    """One field.Error: how validation failures are reported inside a 422 Invalid."""

    def __init__(self, field: str, kind: str, value=None, detail: str = ""):
        self.field, self.kind, self.value, self.detail = field, kind, value, detail

    def body(self) -> str:
        if self.kind == "FieldValueRequired":
            text = "Required value"
        elif self.kind == "FieldValueForbidden":
            text = "Forbidden"
        elif self.kind == "FieldValueTooLong":
            text = "Too long"
        elif self.kind == "FieldValueNotSupported":
            text = f"Unsupported value: {_go_value(self.value)}"
        else:
            text = f"Invalid value: {_go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def _go_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return go_quote(value)
    return json.dumps(value, separators=(",", ":"))       # json.Marshal of the value, as field.Error prints it


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    qualified = f"{kind}.{group}" if group else kind
    text = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    details = {"name": name} if name else {}
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    details["causes"] = [{"reason": e.kind, "message": e.body(), "field": e.field} for e in errors]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {text}', details)
