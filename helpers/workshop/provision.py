"""Provision a room: each attendee's namespace, identities, RBAC, Akeyless objects and files.

Only the client side is used (helpers.cluster, helpers.akeyless_client), so the same code provisions the
embedded lab or any cluster a kubeconfig names. The attendee's kubeconfig holds a ServiceAccount token
whose Role is in their own namespace only: what keeps attendees apart is RBAC on the API server and
sub-claims on the Akeyless side, never a promise in a file.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import akeyless_client as ak
from .. import cluster as k8s
from ..config import PROJECT_ROOT, Settings
from ..display import Note
from ..errors import AkeylessError, ClusterError, ConfigError
from . import roster as rs
from .roster import ATTENDEE_SA, ESO_NAMESPACE, REVIEWER_SA, WORKLOAD_SA, Attendee, Roster

ATTENDEE_TOKEN_SECONDS = 12 * 3600      # one workshop day
REVIEWER_TOKEN_SECONDS = 24 * 3600
CHAPTER = PROJECT_ROOT / "notebooks" / "02_kubernetes_auth.ipynb"
# What an attendee may do in their own namespace: everything the chapter and ESO's objects need.
ATTENDEE_RULES = (
    ("attendee-core", "", ["secrets", "serviceaccounts", "serviceaccounts/token", "configmaps", "pods", "events"]),
    ("attendee-eso", "external-secrets.io", ["secretstores", "externalsecrets"]),
)
ALL_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
CLOCK_LOCK = "clock.lock"


@dataclass
class Connections:
    settings: Settings
    cluster: k8s.Cluster
    akeyless: ak.AdminSession
    lab: object | None = None


def connect(settings: Settings) -> Connections:
    """The admin identities on both sides: the lab's, or the kubeconfig's user and a real gateway's API key."""
    lab_info = None
    if settings.is_lab or not settings.akeyless_url:
        from .. import lab      # the lab is a tool the instructor starts; the client side never needs it
        lab_info = lab.up(settings.with_(target="lab"))
    if settings.akeyless_url:
        if not (settings.akeyless_access_id and settings.akeyless_access_key):
            raise ConfigError("a real Akeyless gateway needs admin credentials to provision a room",
                              hint="export AKEYLESS_ACCESS_ID and AKEYLESS_ACCESS_KEY (an API key with admin rights)")
        session = ak.connect(settings.akeyless_url, settings.akeyless_access_id or "",
                             settings.akeyless_access_key or "")
    else:
        session = ak.connect_lab(lab_info)
    return Connections(settings, k8s.connect(settings), session, lab_info)


def _ignore_missing(action) -> bool:
    """Run a delete; False when there was nothing to delete."""
    try:
        action()
        return True
    except AkeylessError as exc:
        if exc.status in (404, None) or "not found" in exc.message.lower() or "does not exist" in exc.message.lower():
            return False
        raise


def _exists_already(exc: AkeylessError) -> bool:
    return exc.status == 409 or "already exists" in exc.message.lower()


# --- Kubernetes ------------------------------------------------------------------------------------

def _kube_baseline(conn: Connections, a: Attendee) -> str:
    """Namespaces, ServiceAccounts, the reviewer and the attendee's Roles; returns the reviewer's JWT."""
    c = conn.cluster
    for ns in (a.namespace, a.reviewer_namespace, a.other_namespace):
        c.ensure_namespace(ns)
    c.ensure_service_account(a.namespace, WORKLOAD_SA)
    c.ensure_service_account(a.namespace, ATTENDEE_SA)
    c.ensure_service_account(a.reviewer_namespace, REVIEWER_SA)
    c.bind_token_reviewer(a.reviewer_namespace, REVIEWER_SA)
    for name, group, resources in ATTENDEE_RULES:
        c.grant(a.namespace, ATTENDEE_SA, verbs=ALL_VERBS, resources=resources, group=group, name=name)
    return c.request_token(a.reviewer_namespace, REVIEWER_SA,
                           expiration_seconds=REVIEWER_TOKEN_SECONDS).raise_for_error().token


def _kubeconfig(conn: Connections, a: Attendee) -> str:
    """A kubeconfig whose only identity is the attendee's ServiceAccount, defaulting to their namespace."""
    token = conn.cluster.request_token(a.namespace, ATTENDEE_SA,
                                       expiration_seconds=ATTENDEE_TOKEN_SECONDS).raise_for_error().token
    ca = conn.cluster.ca_certificate()
    cluster = {"server": conn.cluster.server}
    if ca is not None:
        cluster["certificate-authority-data"] = ca.b64
    name = f"workshop-{a.id}"
    config = {"apiVersion": "v1", "kind": "Config", "current-context": name,
              "clusters": [{"name": "workshop", "cluster": cluster}],
              "users": [{"name": a.id, "user": {"token": token}}],
              "contexts": [{"name": name, "context": {"cluster": "workshop", "user": a.id, "namespace": a.namespace}}]}
    return yaml.safe_dump(config, sort_keys=False)


def _clear_namespace(conn: Connections, a: Attendee) -> int:
    """Delete what the chapter made in the attendee's namespaces, keeping the attendee's own identity and Roles."""
    c, removed = conn.cluster, 0
    keep_sa = {ATTENDEE_SA, "default"}
    keep_rbac = {name for name, _, _ in ATTENDEE_RULES}
    for ns in (a.namespace, a.other_namespace):
        for s in c._call(f"listing Secrets in {ns}", c.core.list_namespaced_secret, ns).items:
            removed += c._absent("reset", c.core.delete_namespaced_secret, s.metadata.name, ns) is not None
        for sa in c._call(f"listing ServiceAccounts in {ns}", c.core.list_namespaced_service_account, ns).items:
            if not (ns == a.namespace and sa.metadata.name in keep_sa) and sa.metadata.name != "default":
                removed += c._absent("reset", c.core.delete_namespaced_service_account, sa.metadata.name, ns) is not None
        for binding in c._call("listing RoleBindings", c.rbac.list_namespaced_role_binding, ns).items:
            if binding.metadata.name not in keep_rbac:
                removed += c._absent("reset", c.rbac.delete_namespaced_role_binding, binding.metadata.name, ns) is not None
        for role in c._call("listing Roles", c.rbac.list_namespaced_role, ns).items:
            if role.metadata.name not in keep_rbac:
                removed += c._absent("reset", c.rbac.delete_namespaced_role, role.metadata.name, ns) is not None
    return removed


# --- Akeyless --------------------------------------------------------------------------------------

def _akeyless_names(a: Attendee) -> dict[str, list[str]]:
    return {"configs": [a.k8s_conf_name, a.k8s_conf_name + "-wrong-ca"],
            "roles": [a.role, a.role + "-api-key"],
            "methods": [a.auth_method, a.api_key_auth_method, a.other_team_auth_method],
            "items": [a.secret_path, a.other_secret_path]}


def _clear_akeyless(conn: Connections, a: Attendee) -> int:
    s, names = conn.akeyless, _akeyless_names(a)
    removed = sum(_ignore_missing(lambda n=n: ak.delete_gateway_k8s_config(s, n)) for n in names["configs"])
    removed += sum(_ignore_missing(lambda n=n: ak.delete_role(s, n)) for n in names["roles"])
    removed += sum(_ignore_missing(lambda n=n: ak.delete_auth_method(s, n)) for n in names["methods"])
    removed += sum(_ignore_missing(lambda n=n: ak.delete_item(s, n)) for n in names["items"])
    return removed


def _akeyless_baseline(conn: Connections, a: Attendee, reviewer_jwt: str) -> str:
    """The attendee's auth method (bound to their namespace and workload), its gateway config, a role
    whose association's sub-claims pin the namespace, and their secret. Existing objects are kept."""
    s = conn.akeyless
    try:
        method = ak.create_k8s_auth_method(s, a.auth_method, bound_namespaces=[a.namespace],
                                           bound_sa_names=[WORKLOAD_SA], audience="akeyless")
    except AkeylessError as exc:
        if not _exists_already(exc):
            raise
        return "existed"
    ca = conn.cluster.ca_certificate()
    _ignore_missing(lambda: ak.delete_gateway_k8s_config(s, a.k8s_conf_name))
    ak.create_gateway_k8s_config(s, a.k8s_conf_name, access_id=method.access_id, signing_key=method.prv_key,
                                 k8s_host=conn.cluster.server, k8s_ca_cert=ca.b64 if ca else None,
                                 token_reviewer_jwt=reviewer_jwt)
    _ignore_missing(lambda: ak.delete_role(s, a.role))
    ak.create_role(s, a.role)
    ak.associate_role(s, a.role, a.auth_method,
                      sub_claims={"namespace": [a.namespace], "service_account_name": [WORKLOAD_SA]})
    ak.set_role_rule(s, a.role, a.secret_rule, ["read", "list"])
    for path in (a.secret_path, a.other_secret_path):
        _ignore_missing(lambda p=path: ak.delete_item(s, p))
        ak.create_secret(s, path, secrets.token_urlsafe(18))
    return "created"


def access_id(conn: Connections, a: Attendee) -> str:
    """The access id of the attendee's auth method, from their gateway config (the chapter re-creates both)."""
    try:
        return ak.get_gateway_k8s_config(conn.akeyless, a.k8s_conf_name).access_id
    except AkeylessError as exc:
        if exc.status != 404:
            raise
        raise ConfigError(f"{a.id} has no gateway config {a.k8s_conf_name} (their chapter's cleanup removes it)",
                          hint=f"put them back at the start with `workshop reset {a.id}`") from None


# --- files -----------------------------------------------------------------------------------------

def _parameters(roster: Roster, a: Attendee) -> dict:
    return a.parameters(target=roster.target, kube=roster.kube, kubeconfig=roster.kubeconfig, context=roster.context)


def _write_files(conn: Connections, roster: Roster, a: Attendee) -> Path:
    """kubeconfig (0600), parameters.yaml for `papermill -f`, and the chapter prepared with the same names
    (papermill --prepare-only) for JupyterLab."""
    import nbformat
    import papermill

    folder = rs.attendee_dir(conn.settings.lab_dir, a)
    rs.write_private(folder / "kubeconfig", _kubeconfig(conn, a))
    params = _parameters(roster, a)
    env = "" if conn.settings.lab_dir == Settings().lab_dir else f"WORKSHOP_LAB_DIR={conn.settings.lab_dir} "
    head = (f"# {a.id}: {env}papermill {CHAPTER.name} out.ipynb -f parameters.yaml\n"
            f"# your own kubectl: KUBECONFIG={folder / 'kubeconfig'} (namespace {a.namespace} only)\n")
    rs.write_private(folder / "parameters.yaml", head + yaml.safe_dump(params, sort_keys=False))
    # papermill warns about names the parameters cell does not list: the chapter takes them all (see roster)
    logger = logging.getLogger("papermill")
    level, logger.level = logger.level, logging.ERROR
    try:
        prepared = papermill.execute_notebook(str(CHAPTER), None, parameters=params, prepare_only=True,
                                              progress_bar=False, log_output=False)
    finally:
        logger.setLevel(level)
    for cell in prepared.cells:     # the committed outputs name the defaults: an attendee starts clean
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(prepared, str(folder / CHAPTER.name))
    return folder


# --- the commands ----------------------------------------------------------------------------------

def _lock_clock(settings: Settings, count: int) -> None:
    """Moving the lab's clock would expire every attendee's tokens: the lab refuses while a room shares it."""
    rs.write_private(Path(settings.lab_dir) / CLOCK_LOCK,
                     f"a workshop room of {count} attendees shares this lab: moving its clock would expire "
                     f"every attendee's tokens\n")


def _provision(conn: Connections, roster: Roster, a: Attendee) -> tuple:
    reviewer_jwt = _kube_baseline(conn, a)
    action = _akeyless_baseline(conn, a, reviewer_jwt)
    folder = _write_files(conn, roster, a)
    return a.id, a.namespace, action, str(folder)


def up(settings: Settings, attendees: int, prefix: str = "ws") -> Note:
    """Provision attendees 1..N (idempotent: existing attendees keep their objects and files)."""
    rs.check_prefix(prefix)
    if attendees < 1:
        raise ConfigError("--attendees must be at least 1", hint="e.g. `workshop up --attendees 12`")
    conn = connect(settings)
    existing = rs.load(settings.lab_dir)
    if existing and existing.prefix != prefix:
        raise ConfigError(f"this lab already runs a workshop with prefix {existing.prefix!r}",
                          hint="use that prefix, or `workshop down` first")
    roster = existing or Roster(prefix, settings.target, settings.kube, settings.kubeconfig or "",
                                settings.context or "", {})
    conn.cluster.ensure_namespace(ESO_NAMESPACE)
    conn.cluster.ensure_service_account(ESO_NAMESPACE, "external-secrets")
    rows, start = [], rs.now()
    for number in range(1, attendees + 1):
        a = Attendee.of(prefix, number)
        rows.append(_provision(conn, roster, a))
        roster.started.setdefault(a.id, rs.now())
        rs.save(settings.lab_dir, roster)
    roster.quiet.append([start, rs.now()])     # the instructor's requests (a 409 on a kept method) are not the room's
    rs.save(settings.lab_dir, roster)
    if settings.is_lab:
        from .. import lab
        if lab.clock_offset(settings):      # the board compares the audit log's times with real time
            lab.reset_clock(settings)
        _lock_clock(settings, len(roster.started))
    return Note(f"{len(rows)} attendees ready ({', '.join(r[0] for r in rows)})", rows,
                ("attendee", "namespace", "Akeyless objects", "files"), title="workshop up")


def reset(settings: Settings, name: str) -> Note:
    """Put one attendee back to the start: their chapter's objects gone, the baseline made again, the
    board's history for them starting now. Nobody else is touched."""
    roster = rs.require(settings.lab_dir)
    a = roster.attendee(name)
    conn = connect(settings)
    removed = _clear_akeyless(conn, a) + _clear_namespace(conn, a)
    row = _provision(conn, roster, a)
    roster.started[a.id] = rs.now()
    rs.save(settings.lab_dir, roster)
    return Note(f"{a.id} is back at the start ({removed} objects of their chapter removed)", [row],
                ("attendee", "namespace", "Akeyless objects", "files"), title="workshop reset")


def down(settings: Settings) -> Note:
    """Remove every attendee: their Akeyless objects, namespaces, reviewer bindings and files."""
    roster = rs.require(settings.lab_dir)
    conn = connect(settings)
    rows = []
    for a in roster.attendees:
        removed = _clear_akeyless(conn, a)
        conn.cluster.unbind_token_reviewer(a.reviewer_namespace, REVIEWER_SA)
        for ns in (a.namespace, a.reviewer_namespace, a.other_namespace):
            try:
                conn.cluster._absent(f"deleting namespace {ns}", conn.cluster.core.delete_namespace, ns)
            except ClusterError as exc:
                rows.append((a.id, f"namespace {ns} left in place: {exc.message}"))
        folder = rs.attendee_dir(settings.lab_dir, a)
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            path.unlink()
        if folder.exists():
            folder.rmdir()
        rows.append((a.id, f"{removed} Akeyless objects and 3 namespaces removed"))
    rs.remove(settings.lab_dir)
    (Path(settings.lab_dir) / CLOCK_LOCK).unlink(missing_ok=True)
    return Note(f"workshop {roster.prefix} removed ({len(roster.attendees)} attendees)", rows, title="workshop down")

