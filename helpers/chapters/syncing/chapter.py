"""Chapter 3's cells: what the real ESO controller does over time with the identity chapter 2 built.

`SyncingWithEso.from_notebook(globals())` validates the parameters and opens the session; it raises
errors.NeedsRealStack where no ESO controller watches the cluster (the emulator). Every method is one
cell and returns a result that renders itself. The objects a section applies carry names of their own
(`<k8s_secret>-<what>`), so a section never depends on another section's objects, nor on a learner's
answer to an exercise (helpers/chapters/syncing/exercises.py).
"""
from __future__ import annotations

import time
from typing import Any, Callable

from ... import akeyless_client as ak
from ... import diagrams, eso_controller
from ...display import Note
from ...errors import AkeylessError, ClusterError, NeedsRealStack, NotReady
from ...eso import Manifest
from ...session import Session
from .. import kubernetes_auth
from . import manifests as m
from .live import WAIT, Drawn, LiveObjects, Parts, akeyless_cli, apply_line, ident, kubectl, shown
from .parameters import Parameters
from .reading import Reading
from .shaping import Shaping
from .steps import DIAGRAM, STEPS, step_of


class SyncingWithEso(LiveObjects, Reading, Shaping):
    """Chapter 3: one method per cell."""

    def __init__(self, params: Parameters, session: Session | None = None):
        params.validate()
        self.p = params
        self.session = session or Session(params.target_parameters())
        if not self.session.real_eso:
            raise NeedsRealStack("Chapter 3")
        self.auth = kubernetes_auth.KubernetesAuth(params.chapter2(), self.session)
        self.details: dict[str, Any] = {}
        self.last_trace = None
        from .exercises import Exercises
        self.exercises = Exercises(self)

    @classmethod
    def from_notebook(cls, namespace: dict) -> "SyncingWithEso":
        return cls(Parameters.from_namespace(namespace))

    @property
    def cluster(self):
        return self.session.cluster

    @property
    def akeyless(self) -> ak.AdminSession:
        return self.session.akeyless

    # --- opening -----------------------------------------------------------------------------------

    def target(self) -> Note:
        return self.session.describe()

    def identity(self) -> Note:
        """Chapter 2's identity, checked live; what is missing is set up with chapter 2's own cells. The gateway
        config needs the auth method's private key, only known when the method is created: a missing method,
        reviewer or config (or a config serving another method) is therefore set up again from the method on."""
        p = self.p
        method = self._present(lambda: ak.get_auth_method(self.akeyless, p.auth_method))
        config_ok = method and self._present(lambda: self._config_serves(self.auth.access_id()))
        chain = not (method and config_ok and self._present(self._reviewer_ok))
        missing = [("the secret", "seed_secret")] if not self._present(
            lambda: ak.get_secret_value(self.akeyless, p.secret_path)) else []
        if chain:
            missing += [("the auth method", "create_auth_method"), ("the token reviewer", "create_reviewer"),
                        ("the gateway config", "create_gateway_config")]
        if chain or not self._present(self._role_ok):
            missing.append(("the role", "create_role"))
        made = []
        self.cluster.ensure_namespace(p.namespace)
        self.cluster.ensure_service_account(p.namespace, p.service_account)
        for label, cell in missing:
            getattr(self.auth, cell)()
            made.append(label)
        eso_controller.apply(self.cluster, self.auth.secret_store())
        # a status from before a lab restart may still say False for a moment: wait (bounded) for the store's Ready
        store = eso_controller.wait_for(self.cluster, self.auth.secret_store(), status_="True", timeout=WAIT,
                                        progress=None)
        rows = [("auth method", p.auth_method), ("gateway config", p.k8s_conf_name), ("role", p.role),
                ("ServiceAccount", f"{p.namespace}/{p.service_account}"), ("SecretStore", store.summary())]
        said = ("chapter 2's identity is in place" if not made else
                ("chapter 2 had not run here" if len(made) >= 5 else "part of chapter 2's identity was missing")
                + ": set up " + ", ".join(made) + " with chapter 2's own cells")
        return shown(Note(said, rows, title="identity", ok=store.ok), "chapter 2's identity",
                     akeyless_cli("get-role", "--name", p.role, why="the role, its rules and its association"),
                     akeyless_cli("gateway-get-k8s-auth-config", "--name", p.k8s_conf_name, why="the gateway config"),
                     kubectl("get", "secretstore", "akeyless-store", "-n", p.namespace, why="Ready: store validated"))

    @staticmethod
    def _present(read: Callable) -> bool:
        """Whether a piece of chapter 2's identity is there: `read` raises when it is not (or is not usable)."""
        try:
            read()
        except (AkeylessError, ClusterError, NotReady):
            return False
        return True

    def _config_serves(self, access_id: str) -> None:
        config = ak.get_gateway_k8s_config(self.akeyless, self.p.k8s_conf_name)
        if config.access_id != access_id or config.k8s_host != self.cluster.server:  # a lab restarted on new ports
            raise NotReady("the gateway config serves another auth method or API server", "chapter.identity()")

    def _role_ok(self) -> None:
        """The role exists, grants secret_rule and is associated with the method for this namespace and SA."""
        p = self.p
        role = ak.get_role(self.akeyless, p.role)
        associated = any(m == p.auth_method and p.namespace in (claims.get("namespace") or [])
                         and p.service_account in (claims.get("service_account_name") or [])
                         for m, claims, _, _ in role.associations)
        if not associated or p.secret_rule not in [path for path, _, _ in role.rules]:
            raise NotReady(f"role {p.role} does not serve {p.namespace}/{p.service_account}", "chapter.identity()")

    def _reviewer_ok(self):
        token = self.cluster.request_token(self.p.reviewer_namespace, self.p.reviewer_service_account)
        if not token.ok:
            raise ClusterError("no reviewer", status=404)
        check = self.cluster.can_i("create", "tokenreviews", "authentication.k8s.io",
                                   user=self.session.sa_user(self.p.reviewer_namespace, self.p.reviewer_service_account))
        if not check.allowed:
            raise ClusterError("reviewer not bound", status=403)

    def diagram(self, step: int | str | None = None):
        p = self.p
        names = {"akeyless-auth-sa": p.service_account, "app-db-secret": p.k8s_secret,
                 "/demo/app/db-password": p.secret_path, "audience akeyless": f"audience {p.audience}"}
        return diagrams.show(DIAGRAM, None if step is None else step_of(step).id).relabel(names)

    # --- the objects every section shares ------------------------------------------------------------

    def store(self) -> Manifest:
        return self.auth.secret_store()

    def base_secret(self) -> Manifest:
        """The chapter's ExternalSecret: chapter 2's secret, refreshed every refresh_interval."""
        return m.external_secret(self.p.k8s_secret, self.p.namespace, self.store(), refresh=self.p.refresh_interval,
                                 data=[m.ref("password", self.p.secret_path)])
    # --- 1. the reconcile loop, one step per cell -----------------------------------------------------------

    def sync(self):
        """The chapter's ExternalSecret applied, and the calls ESO made for it, from the servers' logs."""
        lab = self.session.lab
        since = time.time() - 0.2
        external = self.base_secret()
        verdict = self.apply(external)
        secret = self.secret(self.p.k8s_secret)
        if lab is not None and lab.kube_mode == "apiserver":
            from ... import eso_trace
            self.last_trace = eso_trace.trace(lab.apiserver_audit_log, self.akeyless, since=since,
                                              namespace=self.p.namespace)
        parts = [verdict] + ([secret] if secret else [])
        return shown(Parts(parts), "apply the ExternalSecret", apply_line(external),
                     kubectl("wait", "--for=condition=Ready", f"externalsecret/{self.p.k8s_secret}", "-n",
                             self.p.namespace, "--timeout=60s", why="ESO has synced it"))

    def step(self, ref: int | str):
        """Step N of the reconcile loop: the diagram with it lit, and the traced calls that were that step."""
        s = step_of(ref)
        if s.evidence:
            calls = [c for c in (self.last_trace.calls if self.last_trace else [])
                     if any(e in c.label for e in s.evidence)]
            rows = [(f"{c.source} -> {c.target}", f"{c.label} -> {c.status}") for c in calls]
            said = (f"{len(calls)} call(s) of this step in the traced sync" if calls else
                    "no call of this step in the traced sync (run the sync cell above first)")
            evidence = Note(said, rows, ("who", "call"), title=f"{s.number}. {s.title}", ok=bool(calls))
        else:
            evidence = self.status_fields()
        self.details[s.id] = evidence
        return Drawn([self.diagram(s.id), Note(s.carries, title="what travels"), evidence])

    def status_fields(self) -> Note:
        obj = self.cluster.get_object(*ident(self.base_secret())) or {}
        status = obj.get("status") or {}
        rows = [("refreshTime", status.get("refreshTime", "(none yet)")),
                ("syncedResourceVersion", status.get("syncedResourceVersion", "(none yet)")),
                ("binding.name", (status.get("binding") or {}).get("name", "(none)"))]
        rows += [(f"condition {c.get('type')}", f"{c.get('status')} {c.get('reason')}: {c.get('message')}")
                 for c in status.get("conditions") or []]
        rows.append(("next reconcile", f"refreshTime + {self.p.refresh_interval} (spec.refreshInterval)"))
        return Note("what ESO recorded on the ExternalSecret's status after its last sync", rows, ("field", "value"),
                    title="status")

    def step_through(self):
        from ...display import Stepper
        return Stepper(self.diagram(), self.details, notes={s.id: s.carries for s in STEPS})
    # --- exercises -------------------------------------------------------------------------------------

    def exercise(self, number: int):
        """Exercise N: `.attempt(answer)`, `.check()`, `.solution()` (helpers/chapters/syncing/exercises.py)."""
        return self.exercises.get(number)

    # --- cleanup ------------------------------------------------------------------------------------------

    def cleanup(self) -> Note:
        """Delete every ESO object the chapter and its exercises applied (their owned Secrets follow) and the
        reader Pod, so nothing keeps reconciling every few seconds; chapter 2's identity and store stay."""
        p, removed = self.p, 0
        objects = [self.base_secret(), self.versions_external_secret(), self.template_external_secret(),
                   self.find_external_secret("path"), self.find_external_secret("tag"),
                   self.shared_external_secret(p.namespace), self.shared_external_secret(p.other_namespace),
                   self.push_secret(), self.cluster_store()]
        objects += [m.renamed(self.base_secret(), f"{p.k8s_secret}-{name}") for name in ("extract", "registry")]
        objects += self.exercises.objects()
        for obj in objects:
            removed += eso_controller.delete(self.cluster, obj).action == "deleted"
        self.cluster.delete_object("v1", "Pod", p.namespace, f"{p.k8s_secret}-reader"[:63])
        self.set_catalog_rule(None)
        return Note(f"removed {removed} ESO objects and the reader Pod; chapter 2's identity and store stay",
                    title="cleanup")


Chapter = SyncingWithEso
