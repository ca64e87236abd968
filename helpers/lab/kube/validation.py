"""Object validation with apimachinery's rules and messages (names, Secret/ConfigMap keys, labels)."""
from __future__ import annotations

import re

from .resources import Resource
from .status import FieldError

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  "or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")


def name_errors(resource: Resource, name: str, field: str = "metadata.name") -> list[FieldError]:
    if resource.name_rule == "path-segment":
        for bad in ("/", "%"):
            if bad in name:
                return [FieldError(field, "FieldValueInvalid", name, f"may not contain '{bad}'")]
        if name in (".", ".."):
            return [FieldError(field, "FieldValueInvalid", name, f"may not be '{name}'")]
        return []
    if resource.name_rule == "dns1035":
        if len(name) > 63:
            return [FieldError(field, "FieldValueInvalid", name, "must be no more than 63 characters")]
        return [] if _DNS1035.match(name) else [FieldError(field, "FieldValueInvalid", name, DNS1035_MSG)]
    if resource.name_rule == "label":
        if len(name) > 63:
            return [FieldError(field, "FieldValueInvalid", name, "must be no more than 63 characters")]
        return [] if _LABEL.match(name) else [FieldError(field, "FieldValueInvalid", name, LABEL_MSG)]
    errors = []
    if len(name) > 253:
        errors.append(FieldError(field, "FieldValueInvalid", name, "must be no more than 253 characters"))
    if not _SUBDOMAIN.match(name):
        errors.append(FieldError(field, "FieldValueInvalid", name, SUBDOMAIN_MSG))
    return errors


def namespace_errors(namespace: str) -> list[FieldError]:
    if _LABEL.match(namespace) and len(namespace) <= 63:
        return []
    return [FieldError("metadata.namespace", "FieldValueInvalid", namespace, LABEL_MSG)]


def key_errors(keys, field: str) -> list[FieldError]:
    errors = []
    for key in keys:
        if not isinstance(key, str) or not _CONFIG_KEY.match(key) or len(key) > 253:
            errors.append(FieldError(f"{field}[{key}]", "FieldValueInvalid", key, CONFIG_KEY_MSG))
    return errors


def metadata_map_errors(meta: dict, key: str) -> list[FieldError]:
    """labels/annotations must be maps of string to string; anything else cannot be decoded."""
    value = meta.get(key)
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return [FieldError(f"metadata.{key}", "FieldValueInvalid", value, "must be a map of string to string")]
    return []
