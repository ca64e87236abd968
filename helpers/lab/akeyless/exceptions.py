"""Errors the gateway emulator answers with: an HTTP status and the `{"error": ...}` message.

Raised by the state layer (models.py) and turned into a response by the wire layer; the messages
follow the shapes the real gateway uses (see the reference's section 1.5) so that ESO and the SDK
report them the same way.
"""
from __future__ import annotations


class AkeylessAPIError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0])


class BadRequest(AkeylessAPIError):
    """The request is malformed: a missing or invalid field."""
    status = 400


class Unauthorized(AkeylessAPIError):
    """Bad or expired credentials, a failed authentication, or a denied operation."""
    status = 401


class NotFound(AkeylessAPIError):
    """A missing object the caller is allowed to know about."""
    status = 404


class Conflict(AkeylessAPIError):
    status = 409


def message_prefix(what: str) -> str:
    """`what` introduces the message; the real bodies use `context: Status ...` or `context. Status ...`."""
    if not what:
        return ""
    return what + " " if what.endswith(".") else what + ": "


def unauthorized_access(account_id: str, access_id: str, what: str = "") -> Unauthorized:
    """The body api.akeyless.io returns for a permission failure (ESO PR #6753)."""
    prefix = message_prefix(what)
    return Unauthorized(f"{prefix}Status 401 Unauthorized, Error: UnauthorizedAccess. Message: account id: "
                        f"{account_id}, access id: {access_id}. unauthorized access for access id {access_id}")


def item_not_found(account_id: str, access_id: str, name: str, what: str = "") -> NotFound:
    prefix = message_prefix(what)
    return NotFound(f"{prefix}Status 404 Not Found, Error: NotFound. Message: account id: {account_id}, "
                    f"access id: {access_id}. failed to obtain item {name}")
