"""Write options from the query string (metav1.CreateOptions, UpdateOptions, PatchOptions, DeleteOptions):
dryRun, checked with apimachinery's messages."""
from __future__ import annotations

from . import status
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
