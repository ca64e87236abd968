"""Write options from the query string (metav1.CreateOptions, UpdateOptions, PatchOptions, DeleteOptions):
dryRun and the field manager, checked with apimachinery's messages."""
from __future__ import annotations

from . import managedfields, status
from .status import FieldError

META = "meta.k8s.io"
OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                 "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


def dry_run(query, verb: str, delete_options: dict | None = None) -> bool:
    """True for dryRun=All, from the query or (delete, deletecollection) the DeleteOptions body kubectl
    sends; any other value is refused as the API server's option validation does."""
    values = query.getall("dryRun", [])
    if not values and delete_options:
        values = delete_options.get("dryRun") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise status.bad_request("DeleteOptions.dryRun must be a list of strings")
    if not values:
        return False
    if any(v != "All" for v in values):
        raise status.invalid(OPTIONS_KIND[verb], META, "", [
            FieldError("dryRun", "FieldValueNotSupported", values, 'supported values: "All"')])
    return True


def field_manager(query, verb: str, user_agent: str, applying: bool = False) -> str:
    """The write's field manager: the fieldManager option (required for apply; `force` only with apply),
    checked as upstream checks it, else the User-Agent's product name."""
    name = query.get("fieldManager", "")
    errors = []
    if verb == "patch" and not applying and "force" in query:
        errors.append(FieldError("force", "FieldValueForbidden", detail="may not be specified for non-apply patch"))
    if applying and not name:
        errors.append(FieldError("fieldManager", "FieldValueRequired", detail="is required for apply patch"))
    if len(name.encode()) > managedfields.MAX_MANAGER:
        errors.append(FieldError("fieldManager", "FieldValueTooLong",
                                 detail=f"may not be more than {managedfields.MAX_MANAGER} bytes"))
    offset = 0
    for char in name:
        if not char.isprintable() and char != " ":
            errors.append(FieldError("fieldManager", "FieldValueInvalid", name,
                                     f"invalid character U+{ord(char):04X} (at position {offset})"))
        offset += len(char.encode())
    if errors:
        raise status.invalid(OPTIONS_KIND[verb], META, "", errors)
    return name or managedfields.manager_from_user_agent(user_agent)


def force(query) -> bool:
    return query.get("force", "").lower() in ("true", "1")
