"""What a person types on a real cluster and account for each step of the chapter: kubectl, the akeyless
CLI, Helm and the manifests, generated from the notebook's parameters.

Every command is data first (tool, argv, why) and text second, so a test can run the kubectl ones
against a cluster and check each akeyless flag against the SDK request model of its command. Values
only known at run time (the auth method's access id and private key, the cluster CA, a JWT, the secret
value) are shell variables (`Var`), never values: the text is safe to show and to commit.

The parameters object is duck-typed: any object with the chapter's parameter names as attributes
(namespace, service_account, audience, auth_method, k8s_conf_name, role, secret_path, secret_rule,
reviewer_namespace, reviewer_service_account, k8s_secret, eso_namespace).
"""
from __future__ import annotations

import html
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from . import eso
from .cluster_results import service_account_user
from .display import Result

AUTH_DELEGATOR = "system:auth-delegator"
REVIEWER_JWT_DURATION = "24h"           # what the chapter's reviewer gets; renew it before it expires
ESO_RELEASE = "external-secrets"        # the ESO chart's release name = its controller's ServiceAccount
GATEWAY_RELEASE = "akeyless-gateway"
CAPABILITIES = ("read", "list")


class Var(str):
    """A shell variable set earlier in the script (after an optional literal prefix): rendered as
    prefix"$NAME", substituted by tests. The str value is the variable's name."""

    def __new__(cls, name: str, prefix: str = ""):
        var = super().__new__(cls, name)
        var.prefix = prefix
        return var

    def shell(self) -> str:
        return (shlex.quote(self.prefix) if self.prefix else "") + f'"${str(self)}"'

    def value(self, values: dict[str, str]) -> str:
        return self.prefix + values[str(self)]


# a CLI flag whose wire field has another name (the CLI and the SDK come from one API, with these renames)
CLI_FIELD_ALIASES = {("get-secret-value", "name"): "names"}
# flags that pick where the CLI sends the request (part of the CLI, not of the request body)
CLI_TRANSPORT_FLAGS = {"gateway-url"}


@dataclass(frozen=True)
class Command:
    """One command line. `argv` may contain Var placeholders; `capture` names the variable its output
    goes into (`VAR=$(...)`), `pipe` is a shell filter applied to its output (jq, base64)."""

    tool: str
    argv: tuple
    why: str
    capture: str = ""
    pipe: str = ""
    model: str = ""                     # akeyless: the SDK request model this command sends
    stdin: str = ""                     # a manifest fed with `<<EOF` (variables expand)
    unless: tuple = ()                  # skip when this command succeeds (the object already exists)

    def text(self) -> str:
        line = _words(self.argv)
        if self.unless:
            line = f"{_words(self.unless)} >/dev/null 2>&1 || {line}"
        if self.stdin:
            line += " <<EOF\n" + self.stdin.rstrip("\n") + "\nEOF"
        if self.pipe:
            line += " | " + self.pipe
        return f"{self.capture}=$({line})" if self.capture else line

    def resolved(self, values: dict[str, str]) -> list[str]:
        """argv with every Var replaced by `values` (a test runs this)."""
        return [a.value(values) if isinstance(a, Var) else str(a) for a in self.argv]

    def akeyless_command(self) -> str:
        """`auth-method create k8s` -> `auth-method-create-k8s`: the V2 path the CLI calls."""
        words = []
        for arg in self.argv[1:]:
            if str(arg).startswith("-"):
                break
            words.append(str(arg))
        return "-".join(words)

    def flags(self) -> list[tuple[str, Any]]:
        """(flag, value) pairs, flags without their dashes; a flag may repeat (lists, sub-claims)."""
        out, args = [], list(self.argv)
        for i, arg in enumerate(args):
            if isinstance(arg, str) and not isinstance(arg, Var) and arg.startswith("--"):
                name, _, inline = arg[2:].partition("=")
                value = inline if inline else (args[i + 1] if i + 1 < len(args) and not
                                               str(args[i + 1]).startswith("--") else True)
                out.append((name, value))
        return out


def _words(argv) -> str:
    return " ".join(a.shell() if isinstance(a, Var) else shlex.quote(str(a)) for a in argv)


def _kubectl(*argv, why: str, **kw) -> Command:
    return Command("kubectl", ("kubectl",) + argv, why, **kw)


def _akeyless(words: str, model: str, flags: Iterable[tuple[str, Any]], why: str, **kw) -> Command:
    argv: list = ["akeyless", *words.split()]
    for name, value in flags:
        argv += [f"--{name}"] if value is True else [f"--{name}", value]   # True: a bare boolean flag
    return Command("akeyless", tuple(argv), why, model=model, **kw)


# --- the steps ---------------------------------------------------------------------------------------

def _namespace(ns: str) -> Command:
    # create unless present: `kubectl create` fails on an existing object, and the runbook may run twice
    return _kubectl("create", "namespace", ns, why=f"namespace {ns}", unless=("kubectl", "get", "namespace", ns))


def _service_account(ns: str, sa: str) -> Command:
    return _kubectl("create", "serviceaccount", sa, "-n", ns, why=f"ServiceAccount {ns}/{sa}",
                    unless=("kubectl", "get", "serviceaccount", sa, "-n", ns))


def reviewer_binding_name(ns: str, sa: str) -> str:
    """The ClusterRoleBinding's name: the same one helpers.cluster.bind_token_reviewer uses."""
    return f"{ns}-{sa}-token-reviewer"


def request_token(p) -> list[Command]:
    return [_namespace(p.namespace), _service_account(p.namespace, p.service_account),
            _kubectl("create", "token", p.service_account, "-n", p.namespace, "--audience", p.audience,
                     "--duration", f"{eso.ESO_TOKEN_SECONDS}s", capture="APP_JWT",
                     why="a 10-minute JWT with the auth method's audience, as ESO requests it"),
            Command("shell", ("printf", "%s", Var("APP_JWT")), "read its claims (the payload is the 2nd part)",
                    pipe="""jq -R 'split(".")[1] | gsub("-";"+") | gsub("_";"/") | @base64d | fromjson'""")]


def create_auth_method(p) -> list[Command]:
    flags = [("name", p.auth_method), ("bound-namespaces", p.namespace), ("bound-sa-names", p.service_account),
             ("audience", p.audience), ("json", True)]
    return [_akeyless("auth-method create k8s", "AuthMethodCreateK8s", flags, capture="AUTH_METHOD_JSON",
                      why="the Kubernetes auth method, bound to one namespace, ServiceAccount and audience"),
            Command("shell", ("printf", "%s", Var("AUTH_METHOD_JSON")), "its access id", capture="ACCESS_ID",
                    pipe="jq -r .access_id"),
            Command("shell", ("printf", "%s", Var("AUTH_METHOD_JSON")),
                    "its private key (shown once: the gateway config needs it as signing-key)", capture="PRV_KEY",
                    pipe="jq -r .prv_key")]


def create_reviewer(p) -> list[Command]:
    ns, sa = p.reviewer_namespace, p.reviewer_service_account
    return [_namespace(ns), _service_account(ns, sa),
            _kubectl("create", "clusterrolebinding", reviewer_binding_name(ns, sa), f"--clusterrole={AUTH_DELEGATOR}",
                     f"--serviceaccount={ns}:{sa}", why=f"{AUTH_DELEGATOR} lets the reviewer create TokenReviews",
                     unless=("kubectl", "get", "clusterrolebinding", reviewer_binding_name(ns, sa))),
            _kubectl("auth", "can-i", "create", "tokenreviews.authentication.k8s.io",
                     f"--as={service_account_user(ns, sa)}", why="must print yes"),
            _kubectl("create", "token", sa, "-n", ns, "--duration", REVIEWER_JWT_DURATION, capture="REVIEWER_JWT",
                     why=f"the gateway's TokenReview bearer; it expires after {REVIEWER_JWT_DURATION}: renew it "
                         "with gateway-update-k8s-auth-config, or use --use-gw-service-account")]


def cluster_ca(p) -> list[Command]:
    view = ("config", "view", "--raw", "--minify", "-o")
    return [_kubectl(*view, "jsonpath={.clusters[0].cluster.server}", capture="K8S_HOST",
                     why="the API server URL the gateway calls (AKS: https://<fqdn>:443)"),
            _kubectl(*view, "jsonpath={.clusters[0].cluster.certificate-authority-data}", capture="K8S_CA_CERT",
                     why="the cluster CA, base64 of the PEM on one line: what k8s-ca-cert wants"),
            _kubectl("get", "--raw", "/.well-known/openid-configuration", capture="K8S_ISSUER", pipe="jq -r .issuer",
                     why="the issuer every ServiceAccount token carries (AKS: the OIDC issuer URL when enabled)")]


def create_gateway_config(p, *, use_gw_service_account: bool = False) -> list[Command]:
    flags: list[tuple[str, Any]] = [("gateway-url", Var("GATEWAY_URL")), ("name", p.k8s_conf_name),
                                    ("access-id", Var("ACCESS_ID")), ("signing-key", Var("PRV_KEY")),
                                    ("k8s-host", Var("K8S_HOST")), ("k8s-ca-cert", Var("K8S_CA_CERT"))]
    if use_gw_service_account:
        flags.append(("use-gw-service-account", True))
    else:
        flags.append(("token-reviewer-jwt", Var("REVIEWER_JWT")))
    flags += [("k8s-issuer", Var("K8S_ISSUER")), ("disable-issuer-validation", "false")]
    why = ("the gateway's Kubernetes auth config: where to send TokenReview, how to trust the API server, "
           "and with which bearer" + (" (the gateway pod's own ServiceAccount)" if use_gw_service_account else ""))
    return [_akeyless("gateway-create-k8s-auth-config", "GatewayCreateK8SAuthConfig", flags, why=why)]


def create_role(p) -> list[Command]:
    rule = [("role-name", p.role), ("path", p.secret_rule)] + [("capability", c) for c in CAPABILITIES]
    return [_akeyless("create-role", "CreateRole", [("name", p.role)], why="the access role"),
            _akeyless("assoc-role-am", "AssocRoleAuthMethod",
                      [("role-name", p.role), ("am-name", p.auth_method), ("sub-claims", f"namespace={p.namespace}"),
                       ("sub-claims", f"service_account_name={p.service_account}")],
                      why="only tokens of this namespace and ServiceAccount get the role"),
            _akeyless("set-role-rule", "SetRoleRule", rule, why=f"read and list under {p.secret_rule}, nothing else")]


def seed_secret(p) -> list[Command]:
    return [_akeyless("create-secret", "CreateSecret", [("name", p.secret_path), ("value", Var("SECRET_VALUE"))],
                      why="the static secret the workload needs (its value from your shell, never typed here)")]


def authenticate(p) -> list[Command]:
    return [Command("shell", ("printf", "%s", Var("APP_JWT")), "base64 of the JWT, as ESO sends it",
                    capture="APP_JWT_B64", pipe="base64 | tr -d '\\n'"),
            _akeyless("auth", "Auth", [("access-id", Var("ACCESS_ID")), ("access-type", "k8s"),
                                       ("k8s-auth-config-name", p.k8s_conf_name),
                                       ("k8s-service-account-token", Var("APP_JWT_B64")),
                                       ("gateway-url", Var("GATEWAY_URL")), ("json", True)],
                      capture="APP_TOKEN", pipe="jq -r .token",
                      why="log in as the workload: the gateway reviews the JWT and returns a t- token"),
            _akeyless("get-secret-value", "GetSecretValue", [("name", p.secret_path), ("token", Var("APP_TOKEN"))],
                      pipe="wc -c", why="read it with that token (the byte count only: never print the value)")]


def eso_install(p) -> list[Command]:
    return [Command("helm", ("helm", "repo", "add", "external-secrets", "https://charts.external-secrets.io"),
                    "the ESO chart repository"),
            Command("helm", ("helm", "upgrade", "--install", ESO_RELEASE, "external-secrets/external-secrets",
                             "-n", p.eso_namespace, "--create-namespace", "--set", "installCRDs=true", "--wait"),
                    f"ESO in {p.eso_namespace}; its chart grants the controller create on serviceaccounts/token"),
            _kubectl("auth", "can-i", "create", "serviceaccounts", "--subresource=token", "-n", p.namespace,
                     f"--as={service_account_user(p.eso_namespace, ESO_RELEASE)}",
                     why="ESO mints the app's token itself (serviceAccountRef): must print yes")]


def gateway_values(p) -> dict:
    """Helm values for the akeyless-gateway chart, running in the cluster next to ESO."""
    return {"globalConfig": {"gatewayAuth": {"gatewayAccessId": "${GATEWAY_ACCESS_ID}",
                                             "gatewayAccessType": "access_key",
                                             "gatewayCredentialsExistingSecret": "gateway-access-key"},
                             "clusterName": "${CLUSTER_NAME}",
                             "serviceAccount": {"create": True, "serviceAccountName": p.reviewer_service_account}},
            "gateway": {"service": {"type": "ClusterIP", "port": 8000}}}


def gateway_install(p) -> list[Command]:
    values = yaml.safe_dump(gateway_values(p), sort_keys=False)
    return [Command("helm", ("helm", "repo", "add", "akeyless", "https://akeylesslabs.github.io/helm-charts"),
                    "the Akeyless chart repository"),
            _kubectl("create", "secret", "generic", "gateway-access-key", "-n", p.reviewer_namespace,
                     Var("GATEWAY_ACCESS_KEY", "--from-literal=gateway-access-key="), "--dry-run=client", "-o", "yaml",
                     pipe="kubectl apply -f -", why="the gateway's own API key, from your shell"),
            Command("helm", ("helm", "upgrade", "--install", GATEWAY_RELEASE, "akeyless/akeyless-gateway", "-n",
                             p.reviewer_namespace, "-f", "-", "--wait"), "the gateway in the cluster (ClusterIP: "
                    "reachable by ESO, not from the internet); its ServiceAccount can be the TokenReview bearer",
                    stdin=values)]


def _manifests(p, url: str = "${ESO_GATEWAY_URL}/api/v2") -> tuple[eso.Manifest, eso.Manifest]:
    store = eso.secret_store("akeyless-store", p.namespace, url, "${ACCESS_ID}", p.k8s_conf_name, p.service_account,
                             audiences=[p.audience])
    external = eso.external_secret(p.k8s_secret, p.namespace, store, p.k8s_secret, {"password": p.secret_path})
    return store, external


def secret_store(p) -> list[Command]:
    store, external = _manifests(p)
    return [_kubectl("apply", "-f", "-", stdin=m.yaml(), why=f"{m.kind} {m.body['metadata']['name']} (ESO_GATEWAY_URL: "
                     "the gateway as ESO, inside the cluster, reaches it)") for m in (store, external)]


def verify_sync(p) -> list[Command]:
    ns = p.namespace
    return [_kubectl("wait", "--for=condition=Ready", f"externalsecret/{p.k8s_secret}", "-n", ns, "--timeout=60s",
                     why="ESO synced it (on failure: kubectl describe externalsecret shows the reason)"),
            _kubectl("get", "secret", p.k8s_secret, "-n", ns, "-o", "jsonpath={.data.password}", pipe="wc -c",
                     why="the Kubernetes Secret exists (its size only)")]


STEPS = {
    "request_token": request_token,
    "create_auth_method": create_auth_method,
    "create_reviewer": create_reviewer,
    "cluster_ca": cluster_ca,
    "create_gateway_config": create_gateway_config,
    "create_role": create_role,
    "seed_secret": seed_secret,
    "authenticate": authenticate,
    "eso_install": eso_install,
    "gateway_install": gateway_install,
    "secret_store": secret_store,
    "verify_sync": verify_sync,
}

TITLES = {
    "request_token": "a ServiceAccount and its token",
    "create_auth_method": "the Kubernetes auth method",
    "create_reviewer": "the token reviewer",
    "cluster_ca": "the API server, its CA and its issuer",
    "create_gateway_config": "the gateway's Kubernetes auth config",
    "create_role": "the access role",
    "seed_secret": "the secret",
    "authenticate": "log in as the workload and read",
    "eso_install": "External Secrets Operator",
    "gateway_install": "the Akeyless gateway in the cluster",
    "secret_store": "the SecretStore and ExternalSecret",
    "verify_sync": "check the sync",
}


@dataclass
class Commands(Result):
    """The commands behind one chapter step, shown collapsed under the step's result."""

    step: str
    commands: list[Command] = field(default_factory=list)

    title = "commands"

    def summary(self) -> str:
        tools = sorted({c.tool for c in self.commands if c.tool != "shell"})
        count = len(self.commands)
        return f"{TITLES.get(self.step, self.step)}: {count} command{'s' * (count != 1)} ({', '.join(tools)})"

    def script(self) -> str:
        lines = []
        for c in self.commands:
            lines.append(f"# {c.why}")
            lines.append(c.text())
        return "\n".join(lines)

    def rows(self):
        return [(c.tool, c.text()) for c in self.commands]

    def _repr_html_(self) -> str:
        return (f"<details><summary>⌨ on a real cluster: {html.escape(self.summary())}</summary>"
                f"<pre style='background:#f6f8fa;padding:6px;white-space:pre-wrap'>{html.escape(self.script())}"
                f"</pre></details>")


def for_step(params, step: str, **options) -> Commands:
    """The commands for one chapter step (see STEPS), from the notebook's parameters."""
    if step not in STEPS:
        raise KeyError(f"unknown step {step!r}; known: {', '.join(STEPS)}")
    return Commands(step, STEPS[step](params, **options))


def every_step(params) -> list[Commands]:
    return [for_step(params, step) for step in STEPS]
