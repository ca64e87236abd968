"""A stand-in for the akeyless CLI, for tests only: it turns an `akeyless <command> --flag value ...` line into
the V2 request the SDK sends for that command (the CLI and the SDK are generated from the same API) and sends
it to the lab gateway. Run as a script it behaves like the CLI on a shell's PATH (JSON out with --json).

Environment when run as a script: AKEYLESS_SHIM_URL (the gateway), AKEYLESS_SHIM_CA (its CA file) and
AKEYLESS_SHIM_TOKEN (an admin t- token for the commands that need one).
"""
from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

import akeyless

from helpers import commands
from helpers.commands import Var

# the SDK method that sends each model
SDK_METHOD = {
    "AuthMethodCreateK8s": "auth_method_create_k8s",
    "GatewayCreateK8SAuthConfig": "gateway_create_k8_s_auth_config",
    "CreateRole": "create_role",
    "AssocRoleAuthMethod": "assoc_role_auth_method",
    "SetRoleRule": "set_role_rule",
    "CreateSecret": "create_secret",
    "Auth": "auth",
    "GetSecretValue": "get_secret_value",
}


def wire_field(command: commands.Command, flag: str) -> str:
    return commands.CLI_FIELD_ALIASES.get((command.akeyless_command(), flag), flag)


def sdk_request(command: commands.Command, values: dict | None = None):
    """(SDK method name, request model) for an akeyless command line; Var placeholders filled from `values`."""
    model = getattr(akeyless, command.model)
    attr_of = {wire: attr for attr, wire in model.attribute_map.items()}
    kwargs: dict = {}
    for flag, value in command.flags():
        wire = wire_field(command, flag)
        if wire not in attr_of:
            continue        # a transport flag (--gateway-url on gateway-* commands)
        attr = attr_of[wire]
        value = value.value(values or {}) if isinstance(value, Var) else value
        kind = model.openapi_types[attr]
        if kind.startswith("list"):
            kwargs.setdefault(attr, []).append(value)
        elif kind.startswith("dict"):
            key, _, val = value.partition("=")
            kwargs.setdefault(attr, {})[key] = val
        elif kind == "bool":
            kwargs[attr] = value is True or value == "true"
        else:
            kwargs[attr] = value
    return SDK_METHOD[command.model], model(**kwargs)


def models_by_command() -> dict[str, str]:
    """`auth-method-create-k8s` -> `AuthMethodCreateK8s`, for every akeyless command the chapter prints."""
    names = SimpleNamespace(namespace="n", service_account="s", audience="a", auth_method="/m", k8s_conf_name="c",
                            role="/r", secret_path="/p/x", secret_rule="/p/*", reviewer_namespace="g",
                            reviewer_service_account="v", k8s_secret="k", eso_namespace="e")
    return {c.akeyless_command(): c.model for group in commands.every_step(names) for c in group.commands
            if c.tool == "akeyless"}


def main(argv: list[str]) -> int:
    command = commands.Command("akeyless", ("akeyless", *argv), "")
    model = models_by_command().get(command.akeyless_command())
    if model is None:
        print(f"akeyless (test stand-in): unknown command {command.akeyless_command()!r}", file=sys.stderr)
        return 2
    command = commands.Command("akeyless", command.argv, "", model=model)
    method, request = sdk_request(command)
    if model not in ("Auth",) and not getattr(request, "token", None):
        request.token = os.environ["AKEYLESS_SHIM_TOKEN"]
    config = akeyless.Configuration(host=os.environ["AKEYLESS_SHIM_URL"])
    config.ssl_ca_cert = os.environ["AKEYLESS_SHIM_CA"]
    try:
        out = getattr(akeyless.V2Api(akeyless.ApiClient(config)), method)(request)
    except akeyless.ApiException as exc:
        print(f"Error: {exc.body}", file=sys.stderr)
        return 1
    if model == "GetSecretValue":
        print("\n".join(str(v) for v in out.values()))
    else:
        data = out.to_dict() if hasattr(out, "to_dict") else out
        print(json.dumps(data, default=str) if ("json", True) in command.flags() else "A new command completed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
