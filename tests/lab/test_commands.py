"""The commands the chapter prints are the real thing: every akeyless flag names a field of the V2 request
the SDK sends for that command, the lab gateway accepts those requests, and the kubectl commands, run by
kubectl against the lab, make the objects the helpers make (and that they then find as they would make them).
"""
import inspect
import os
import subprocess
from types import SimpleNamespace

import akeyless
import pytest

from helpers import cluster as k8s
from helpers import commands, tokens
from helpers.commands import Var

from akeyless_cli import SDK_METHOD, sdk_request, wire_field

def params(suffix: str = "cmd") -> SimpleNamespace:
    return SimpleNamespace(namespace=f"{suffix}-app", service_account=f"{suffix}-sa", audience="akeyless",
                           auth_method=f"/workshop/{suffix}-k8s", k8s_conf_name=f"{suffix}-conf",
                           role=f"/workshop/{suffix}-reader", secret_path=f"/{suffix}/app/db-password",
                           secret_rule=f"/{suffix}/app/*", reviewer_namespace=f"{suffix}-gw",
                           reviewer_service_account=f"{suffix}-reviewer", k8s_secret=f"{suffix}-secret",
                           eso_namespace="external-secrets")


def akeyless_commands(p):
    out = [commands.create_gateway_config(p, use_gw_service_account=True)[0]]
    for group in commands.every_step(p):
        out += [c for c in group.commands if c.tool == "akeyless"]
    return out


@pytest.mark.parametrize("command", akeyless_commands(params()), ids=lambda c: c.akeyless_command())
def test_every_akeyless_flag_names_a_field_of_the_sdk_request(command):
    model = getattr(akeyless, command.model)
    method = getattr(akeyless.V2Api, SDK_METHOD[command.model] + "_with_http_info")
    assert f"'/{command.akeyless_command()}'" in inspect.getsource(method), "CLI command and V2 path differ"
    wire = set(model.attribute_map.values())
    for flag, _ in command.flags():
        if flag in commands.CLI_TRANSPORT_FLAGS and wire_field(command, flag) not in wire:
            continue        # --gateway-url on gateway-* commands: where the CLI sends it, not a body field
        assert wire_field(command, flag) in wire, f"--{flag} is not a field of {command.model}"


def run_shell(command: commands.Command, env: dict) -> str:
    """Run the command's text in bash (pipes, captures) and return what it captured or printed."""
    script = "set -euo pipefail\n" + command.text() + (f'\nprintf %s "${command.capture}"' if command.capture else "")
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{command.text()}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def shell_env(lab, kubectl):
    return {**os.environ, "KUBECONFIG": str(lab.kubeconfig), "PATH": os.environ["PATH"]}


def test_the_printed_commands_set_up_the_chapter_on_the_lab(lab, shell_env, akeyless_api, akeyless_admin):
    """kubectl runs the kubectl lines; the akeyless lines go to the lab gateway as the SDK requests the
    CLI sends; at the end the workload's token reads the secret."""
    p = params("cmdrun")
    values = {"GATEWAY_URL": lab.akeyless_url, "SECRET_VALUE": "s3cret-from-the-shell"}
    steps = ["request_token", "create_auth_method", "create_reviewer", "cluster_ca", "create_gateway_config",
             "create_role", "seed_secret", "authenticate"]
    for step in steps:
        for command in commands.for_step(p, step).commands:
            env = {**shell_env, **values}
            if command.tool == "akeyless":
                method, model = sdk_request(command, values)
                if command.model != "Auth":
                    model.token = values.get("APP_TOKEN") if command.model == "GetSecretValue" else akeyless_admin
                out = getattr(akeyless_api, method)(model)
                if command.model == "AuthMethodCreateK8s":
                    values.update(ACCESS_ID=out.access_id, PRV_KEY=out.prv_key)
                elif command.model == "Auth":
                    values["APP_TOKEN"] = out.token
                elif command.model == "GetSecretValue":
                    assert out[p.secret_path] == values["SECRET_VALUE"]
            elif command.capture in ("AUTH_METHOD_JSON", "ACCESS_ID", "PRV_KEY"):
                continue    # jq over the CLI's JSON output: the SDK call above gave both values
            else:
                output = run_shell(command, env)
                if command.capture:
                    values[command.capture] = output
    assert values["APP_TOKEN"].startswith("t-")
    assert tokens.decode(values["APP_JWT"]).audiences == [p.audience]
    assert values["K8S_ISSUER"] == tokens.decode(values["APP_JWT"]).issuer


def test_kubectl_makes_what_the_helpers_make(lab, shell_env):
    """After the kubectl lines, the helpers find every object exactly as they would have made it."""
    p = params("cmdobj")
    for step in ("request_token", "create_reviewer"):
        for command in commands.for_step(p, step).commands:
            if command.tool == "kubectl":
                run_shell(command, shell_env)
    cluster = k8s.connect(lab_settings_of(lab))
    assert cluster.ensure_namespace(p.namespace).action == "existed"
    assert cluster.ensure_service_account(p.namespace, p.service_account).action == "existed"
    assert cluster.ensure_service_account(p.reviewer_namespace, p.reviewer_service_account).action == "existed"
    # bind_token_reviewer replaces a binding whose roleRef or subject differ: "existed" means identical
    binding = cluster.bind_token_reviewer(p.reviewer_namespace, p.reviewer_service_account)
    assert (binding.name, binding.action) == (
        commands.reviewer_binding_name(p.reviewer_namespace, p.reviewer_service_account), "existed")
    assert k8s.Cluster.reviewer_binding_name(p.reviewer_namespace, p.reviewer_service_account) == binding.name
    can_i = [c for c in commands.for_step(p, "create_reviewer").commands if "can-i" in c.argv]
    assert run_shell(can_i[0], shell_env).strip() == "yes"
    kubectl_token = run_shell(commands.for_step(p, "request_token").commands[2], shell_env)
    helper_token = cluster.request_token(p.namespace, p.service_account, audiences=[p.audience]).token
    mine, theirs = tokens.decode(kubectl_token), tokens.decode(helper_token)
    assert (mine.subject, mine.audiences, mine.issuer) == (theirs.subject, theirs.audiences, theirs.issuer)
    assert mine.lifetime_seconds == 600


def test_the_ca_command_prints_what_the_helpers_read(lab, shell_env):
    p = params("cmdca")
    ca_line = [c for c in commands.for_step(p, "cluster_ca").commands if c.capture == "K8S_CA_CERT"][0]
    host_line = [c for c in commands.for_step(p, "cluster_ca").commands if c.capture == "K8S_HOST"][0]
    cluster = k8s.connect(lab_settings_of(lab))
    assert run_shell(ca_line, shell_env) == cluster.ca_certificate().b64
    assert run_shell(host_line, shell_env) == cluster.server


def test_rendering_is_collapsed_html_and_one_line_of_text():
    shown = commands.for_step(params(), "create_gateway_config")
    bundle = shown._repr_mimebundle_()
    assert bundle["text/html"].startswith("<details>") and "<pre" in bundle["text/html"]
    assert "\n" not in bundle["text/plain"]
    assert "1 command (akeyless)" in bundle["text/plain"]


def test_no_secret_is_ever_a_literal():
    """Every credential-bearing flag is a shell variable, never a value."""
    for group in commands.every_step(params()):
        for command in group.commands:
            for flag, value in command.flags():
                if flag in ("signing-key", "token-reviewer-jwt", "value", "k8s-service-account-token", "token",
                            "access-id", "k8s-ca-cert"):
                    assert isinstance(value, Var), f"--{flag} in {command.text()}"


def lab_settings_of(lab):
    from helpers.config import Settings
    return Settings.load(target="lab", lab_dir=str(lab.dir))
