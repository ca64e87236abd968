"""What one attendee could try against another, tried for real: each attempt must be refused by the
API server's RBAC or by the gateway, and the refusal is kept word for word.

Attendee A holds only what `workshop up` gave them: their kubeconfig (a ServiceAccount token with a Role
in their namespace) and whatever Akeyless token their own workload's JWT can obtain. ESO's controller
is played by the admin identity, because the real controller may mint tokens in every namespace.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .. import akeyless_client as ak
from .. import cluster as k8s
from .. import eso
from ..display import Result
from ..errors import AkeylessError, ClusterError, ConfigError
from . import roster as rs
from .provision import Connections, access_id
from .roster import REVIEWER_SA, WORKLOAD_SA, Attendee


@dataclass
class Attempt(Result):
    """One thing A tried against B: refused (what isolation needs) with the exact error, or not."""

    attacker: str
    victim: str
    what: str
    refused: bool
    error: str

    title = "isolation attempt"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.refused

    def summary(self) -> str:
        verdict = "refused" if self.refused else "ALLOWED"
        return f"{self.attacker} -> {self.victim}: {self.what}: {verdict}: {self.error}"

    def rows(self):
        return [("attacker", self.attacker), ("victim", self.victim), ("tried", self.what),
                ("refused", self.refused), ("answer", self.error)]


@dataclass
class Isolation(Result):
    attempts: list
    not_tried: list = field(default_factory=list)

    title = "isolation"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return all(a.refused for a in self.attempts)

    def summary(self) -> str:
        refused = sum(a.refused for a in self.attempts)
        line = f"{refused} of {len(self.attempts)} cross-attendee attempts refused"
        return line + (f"; {len(self.not_tried)} pair(s) not tried on the Akeyless side" if self.not_tried else "")

    def rows(self):
        return ([(f"{a.attacker} -> {a.victim}: {a.what}", ("refused: " if a.refused else "ALLOWED: ") + a.error)
                 for a in self.attempts] + [("not tried", line) for line in self.not_tried])


def attendee_cluster(conn: Connections, a: Attendee) -> k8s.Cluster:
    """The API server as the attendee's kubeconfig identity, and nothing more."""
    path = rs.attendee_dir(conn.settings.lab_dir, a) / "kubeconfig"
    return k8s.Cluster.from_kubeconfig(str(path))


def _kube(action: Callable) -> tuple[bool, str]:
    try:
        outcome = action()
    except ClusterError as exc:
        return exc.status in (401, 403), f"{exc.status} {exc.reason}: {exc.message}"
    error = getattr(outcome, "error", None)
    if error:      # token requests and reviews come back as failed results, not exceptions
        status = getattr(outcome, "status", None)
        return status in (401, 403), f"{status} {getattr(outcome, 'reason', '')}: {error}"
    return False, f"succeeded: {outcome.summary() if hasattr(outcome, 'summary') else outcome}"


def _akeyless(action: Callable) -> tuple[bool, str]:
    try:
        outcome = action()
    except AkeylessError as exc:
        return exc.status in (401, 403), exc.message
    return False, f"succeeded: {outcome.summary() if hasattr(outcome, 'summary') else outcome}"


def own_akeyless_token(conn: Connections, a: Attendee) -> ak.AuthToken:
    """What A can legitimately get: a t- token from their own workload's JWT, minted with their kubeconfig."""
    jwt = attendee_cluster(conn, a).request_token(a.namespace, WORKLOAD_SA, audiences=["akeyless"]) \
        .raise_for_error().token
    return ak.auth_with_k8s(conn.akeyless.url, access_id(conn, a), a.k8s_conf_name, jwt, ca_cert=conn.akeyless.ca_cert)


def attempts(conn: Connections, a: Attendee, b: Attendee) -> Isolation:
    """Every way A might reach B: B's Kubernetes objects with A's kubeconfig, B's Akeyless paths with A's
    token, B's auth method with A's JWT, and a SecretStore in A's namespace naming B's ServiceAccount."""
    mine = attendee_cluster(conn, a)
    results = []

    def kube(what: str, action: Callable) -> None:
        refused, error = _kube(action)
        results.append(Attempt(a.id, b.id, what, refused, error))

    def akeyless(what: str, action: Callable) -> None:
        refused, error = _akeyless(action)
        results.append(Attempt(a.id, b.id, what, refused, error))

    kube(f"read Secret {b.namespace}/app-db-secret", lambda: mine.read_secret(b.namespace, "app-db-secret"))
    kube(f"list Secrets in {b.namespace}", lambda: mine.list_secrets(b.namespace))
    kube(f"mint a token for {b.namespace}/{WORKLOAD_SA}",
         lambda: mine.request_token(b.namespace, WORKLOAD_SA, audiences=["akeyless"]))
    kube(f"mint a token for B's reviewer {b.reviewer_namespace}/{REVIEWER_SA}",
         lambda: mine.request_token(b.reviewer_namespace, REVIEWER_SA))
    own_jwt = mine.request_token(a.namespace, WORKLOAD_SA, audiences=["akeyless"]).raise_for_error().token
    kube("create a TokenReview (of A's own token)", lambda: mine.review_token(own_jwt, ["akeyless"]))
    kube("bind itself to system:auth-delegator",
         lambda: mine.bind_token_reviewer(a.namespace, rs.ATTENDEE_SA, binding_name=f"{a.id}-escalates"))

    try:
        ids = access_id(conn, a), access_id(conn, b)
    except ConfigError as exc:      # a chapter's cleanup removed an auth method: nothing there to attack
        return Isolation(results, [f"{a.id} -> {b.id}: Akeyless attempts not tried: {exc.message}"])
    token = own_akeyless_token(conn, a)
    akeyless(f"read B's secret {b.secret_path} with A's Akeyless token",
             lambda: ak.get_secret_value(token, b.secret_path))
    answer = eso.authenticate(conn.akeyless.url, eso.auth_body(ids[1], b.k8s_conf_name, own_jwt),
                              _ca_pem(conn))
    results.append(Attempt(a.id, b.id, "log in to B's auth method with A's ServiceAccount JWT",
                           answer.status in (401, 403), answer.error or "succeeded: " + answer.summary()))

    store = eso.secret_store("steal-b", a.namespace, conn.akeyless.url, ids[1], b.k8s_conf_name,
                             WORKLOAD_SA, audiences=["akeyless"], ca_bundle_pem=_ca_pem(conn),
                             service_account_namespace=b.namespace)
    store.body["spec"]["provider"]["akeyless"]["authSecretRef"]["kubernetesAuth"]["serviceAccountRef"]["namespace"] = \
        b.namespace
    external = eso.external_secret("steal-b", a.namespace, store, "stolen", {"password": b.secret_path})
    sync = eso.sync(conn.cluster, external, store, write=False)
    results.append(Attempt(a.id, b.id, f"SecretStore in {a.namespace} naming {b.namespace}/{WORKLOAD_SA} (ESO replay)",
                           not sync.ok and "authentication failed" in sync.message, sync.message))
    return Isolation(results)


def _ca_pem(conn: Connections) -> str | None:
    if not conn.akeyless.ca_cert:
        return None
    with open(conn.akeyless.ca_cert) as handle:
        return handle.read()


def check(conn: Connections) -> Isolation:
    """Every attendee against the next one in the room (a ring), so each is both attacker and victim."""
    roster = rs.require(conn.settings.lab_dir)
    room = roster.attendees
    if len(room) < 2:
        return Isolation([])
    found, skipped, start = [], [], rs.now()
    try:
        for index, a in enumerate(room):
            result = attempts(conn, a, room[(index + 1) % len(room)])
            found += result.attempts
            skipped += result.not_tried
    finally:    # the refusals this check causes are the instructor's, not the attendees': the board skips them
        roster = rs.require(conn.settings.lab_dir)
        roster.quiet.append([start, rs.now()])
        rs.save(conn.settings.lab_dir, roster)
    return Isolation(found, skipped)
