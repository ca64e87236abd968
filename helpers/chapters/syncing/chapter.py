"""Chapter 3's cells: what the real ESO controller does over time with the identity chapter 2 built.

`SyncingWithEso.from_notebook(globals())` validates the parameters and opens the session; it raises
errors.NeedsRealStack where no ESO controller watches the cluster (the emulator). Every method is one
cell and returns a result that renders itself. The objects a section applies carry names of their own
(`<k8s_secret>-<what>`), so a section never depends on another section's objects, nor on a learner's
answer to an exercise (helpers/chapters/syncing/exercises.py).
"""
from __future__ import annotations

import json
import secrets
import time
from dataclasses import fields
from typing import Any, Callable

from ... import akeyless_client as ak
from ... import commands, diagrams, eso_controller
from ...cluster_results import SecretResult
from ...commands import Command, Commands
from ...display import Annotated, Note, Result, mask_secret
from ...errors import AkeylessError, ClusterError, NeedsRealStack
from ...eso import Manifest
from ...session import Session
from .. import kubernetes_auth
from . import manifests as m
from .parameters import Parameters
from .steps import DIAGRAM, STEPS, step_of

WAIT = 30.0          # bound on every wait for the controller (a reconcile takes well under a second here)


def kubectl(*argv: str, why: str) -> Command:
    return Command("kubectl", ("kubectl",) + argv, why)


def akeyless_cli(*argv: str, why: str) -> Command:
    return Command("akeyless", ("akeyless",) + argv, why)


def shown(result, step: str, *lines: Command) -> Annotated:
    """The result with, folded under it, the commands a person types for the same step."""
    return Annotated(result, [Commands(step, list(lines))])


def apply_line(manifest: Manifest) -> Command:
    return Command("kubectl", ("kubectl", "apply", "-f", "-"), f"the {manifest.kind} above", stdin=manifest.yaml())


class SyncingWithEso:
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
        names = {f.name for f in fields(Parameters)}
        return cls(Parameters(**{k: v for k, v in namespace.items() if k in names}))

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
        """Chapter 2's identity, checked live; what is missing is set up with chapter 2's own cells."""
        p, made = self.p, []
        checks = [("the secret", "seed_secret", lambda: ak.get_secret_value(self.akeyless, p.secret_path)),
                  ("the auth method", "create_auth_method", lambda: ak.get_auth_method(self.akeyless, p.auth_method)),
                  ("the token reviewer", "create_reviewer", self._reviewer_ok),
                  ("the gateway config", "create_gateway_config",
                   lambda: ak.get_gateway_k8s_config(self.akeyless, p.k8s_conf_name)),
                  ("the role", "create_role", lambda: ak.get_role(self.akeyless, p.role))]
        missing = [c for c in checks if not self._present(c[2])]
        if any(c[1] in ("create_auth_method", "create_reviewer") for c in missing):
            missing = [c for c in checks if c[1] != "seed_secret" or c in missing]   # a new method needs its config
        self.cluster.ensure_namespace(p.namespace)
        self.cluster.ensure_service_account(p.namespace, p.service_account)
        for label, cell, _ in missing:
            getattr(self.auth, cell)()
            made.append(label)
        self.auth.secret_store_applied = eso_controller.apply(self.cluster, self.auth.secret_store())
        store = eso_controller.wait(self.cluster, self.auth.secret_store(), timeout=WAIT, progress=None)
        rows = [("auth method", p.auth_method), ("gateway config", p.k8s_conf_name), ("role", p.role),
                ("ServiceAccount", f"{p.namespace}/{p.service_account}"), ("SecretStore", store.summary())]
        said = ("chapter 2's identity is in place" if not made else
                "chapter 2 had not run here: set up " + ", ".join(made) + " with chapter 2's own cells")
        return Note(said, rows, title="identity", ok=store.ok)

    def _present(self, read: Callable) -> bool:
        try:
            read()
        except (AkeylessError, ClusterError, Exception) as exc:   # noqa: B014 - any failure means "set it up"
            if isinstance(exc, (AkeylessError, ClusterError)) or "NotReady" in type(exc).__name__:
                return False
            raise
        return True

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

    def apply(self, manifest: Manifest, *, timeout: float = WAIT) -> eso_controller.ControllerStatus:
        """Apply, and wait (bounded) for the controller's verdict on this version of the object."""
        if manifest.kind not in ("ExternalSecret", "PushSecret"):
            eso_controller.apply(self.cluster, manifest)
            return eso_controller.wait(self.cluster, manifest, timeout=timeout, progress=None)
        before = self._progress(manifest)
        eso_controller.apply(self.cluster, manifest)
        if before[0] is not None:
            eso_controller.force_sync(self.cluster, manifest)
        return self._verdict(manifest, before, timeout)

    def resync(self, manifest: Manifest) -> eso_controller.ControllerStatus:
        """A force-sync of an applied ExternalSecret or PushSecret, and the controller's verdict on it."""
        before = self._progress(manifest)
        eso_controller.force_sync(self.cluster, manifest)
        return self._verdict(manifest, before)

    def _progress(self, manifest: Manifest) -> tuple:
        """What changes on each reconcile: ESO records a success as status.syncedResourceVersion (the
        generation and a hash of labels and annotations, so a force-sync changes it), and a failure as
        one more Warning event. Timestamps have one-second resolution: they cannot tell two syncs apart."""
        obj = self.cluster.get_object(*_ident(manifest))
        if obj is None:
            return None, 0
        meta = manifest.body["metadata"]
        warnings = sum(e["count"] for e in self.cluster.events_for(meta["namespace"], manifest.kind, meta["name"])
                       if e["type"] == "Warning")
        return (obj.get("status") or {}).get("syncedResourceVersion", ""), warnings

    def _verdict(self, manifest: Manifest, before: tuple, timeout: float = WAIT) -> eso_controller.ControllerStatus:
        start = time.monotonic()
        while True:
            synced, warnings = self._progress(manifest)
            current = eso_controller.status(self.cluster, manifest)
            current.waited = time.monotonic() - start
            ready = current.ready
            if ready is not None and ready.status == "True" and synced and synced != before[0]:
                return current
            if ready is not None and ready.status == "False" and warnings > before[1]:
                return current
            if current.waited >= timeout:
                current.timed_out = True
                return current
            time.sleep(0.1)

    def secret(self, name: str, namespace: str | None = None) -> SecretResult | None:
        try:
            return self.cluster.read_secret(namespace or self.p.namespace, name, reveal=self.p.reveal)
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    def _value(self, name: str, key: str, namespace: str | None = None) -> str | None:
        found = self.secret(name, namespace)
        return None if found is None else found.data.get(key)

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
        return shown(_Parts(parts), "apply the ExternalSecret", apply_line(external),
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
        return _Parts([self.diagram(s.id), Note(s.carries, title="what travels"), evidence])

    def status_fields(self) -> Note:
        obj = self.cluster.get_object(*_ident(self.base_secret())) or {}
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

    # --- 2. refresh and rotation -------------------------------------------------------------------------

    def _wait_for_change(self, name: str, key: str, old: str | None, namespace: str | None = None,
                         timeout: float = WAIT) -> float | None:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self._value(name, key, namespace) not in (None, old):
                return time.monotonic() - start
            time.sleep(0.1)
        return None

    def rotate(self) -> Note:
        """A new value in Akeyless; the Secret follows at ESO's next refresh: the delay measured."""
        old = self._value(self.p.k8s_secret, "password")
        new = secrets.token_urlsafe(18)
        ak.update_secret(self.akeyless, self.p.secret_path, new)
        delay = self._wait_for_change(self.p.k8s_secret, "password", old, timeout=3 * self.p.refresh_seconds + 5)
        followed = delay is not None and self._value(self.p.k8s_secret, "password") == new
        rows = [("changed in Akeyless", f"{self.p.secret_path} (new version, value {mask_secret(new, self.p.reveal)})"),
                ("Secret followed after", f"{delay:.1f} s" if delay is not None else "not within the wait"),
                ("refreshInterval", f"{self.p.refresh_interval} (the delay is at most this, plus one reconcile)")]
        cmds = [akeyless_cli("update-secret-val", "--name", self.p.secret_path, "--value", "$NEW_VALUE",
                             why="rotate the value"),
                kubectl("get", "externalsecret", self.p.k8s_secret, "-n", self.p.namespace, "-o",
                        "jsonpath={.status.refreshTime}", why="when ESO last synced")]
        note = Note("the Secret followed the new value at ESO's next refresh" if followed else
                    "the Secret did not follow the new value within the wait", rows, title="rotation", ok=followed)
        return shown(note, "rotate in Akeyless", *cmds)

    def force_sync(self) -> Note:
        """The same, without waiting for the interval: a new force-sync annotation reconciles at once."""
        old = self._value(self.p.k8s_secret, "password")
        new = secrets.token_urlsafe(18)
        ak.update_secret(self.akeyless, self.p.secret_path, new)
        start = time.monotonic()
        eso_controller.force_sync(self.cluster, self.base_secret())
        delay = self._wait_for_change(self.p.k8s_secret, "password", old, timeout=WAIT)
        rows = [("force-sync annotated, Secret followed after", f"{delay:.2f} s" if delay is not None else "no change"),
                ("measured from", f"the annotation ({time.monotonic() - start:.2f} s ago)")]
        note = Note("force-sync: ESO reconciled at once, not at the next interval", rows, title="force-sync",
                    ok=delay is not None)
        return shown(note, "force a sync", kubectl("annotate", "externalsecret", self.p.k8s_secret, "-n",
                                                   self.p.namespace, 'force-sync="$(date +%s)"', "--overwrite",
                                                   why="any new value of the annotation triggers a reconcile"))

    def workload(self) -> Note:
        """A Pod that reads the Secret both ways: as an env variable and as a mounted file."""
        p, pod = self.p, f"{self.p.k8s_secret}-reader"[:63]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": p.namespace},
                "spec": {"serviceAccountName": p.service_account,
                         "containers": [{"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                         "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                                             "name": p.k8s_secret, "key": "password"}}}],
                                         "volumeMounts": [{"name": "db", "mountPath": "/etc/db", "readOnly": True}]}],
                         "volumes": [{"name": "db", "secret": {"secretName": p.k8s_secret}}]}}
        self.cluster.delete_object("v1", "Pod", p.namespace, pod)
        created = self.cluster.request("POST", f"/api/v1/namespaces/{p.namespace}/pods", body,
                                       doing=f"creating Pod {p.namespace}/{pod}")
        phase = (created.get("status") or {}).get("phase", "Pending")
        rows = [("Pod", f"{p.namespace}/{pod}: {phase} (this lab has no kubelet: nothing runs it)"),
                ("env DB_PASSWORD", "read once, when the container starts: a rotation reaches it only on restart"),
                ("file /etc/db/password", "a secret volume: the kubelet rewrites it after a change (its sync period "
                 "plus cache, about a minute), so a process that re-reads the file sees the new value"),
                ("subPath mounts", "never updated: they behave like env"),
                ("what the lab shows", "the Secret object itself, which the Pod's volume is made from (rotation above)")]
        return shown(Note("env is fixed at start, a mounted file follows the Secret", rows, title="workload"),
                     "the workload", kubectl("rollout", "restart", "deployment/<your-app>", "-n", p.namespace,
                                             why="env readers see a rotated value only after a restart"))

    # --- 3. versions and properties ------------------------------------------------------------------------

    def seed_json(self) -> Note:
        """A JSON secret with two versions: host db-v1, then db-v2 (the password random each time)."""
        p = self.p
        self.session.recreate(lambda: ak.delete_item(self.akeyless, p.json_secret),
                              lambda: ak.create_secret(self.akeyless, p.json_secret, self._db_json("db-v1")))
        ak.update_secret(self.akeyless, p.json_secret, self._db_json("db-v2"))
        return shown(Note(f"{p.json_secret}: version 1 has host db-v1, version 2 (latest) host db-v2",
                          [("fields", "host, port, username, password (password masked everywhere)")],
                          title="JSON secret"), "the JSON secret",
                     akeyless_cli("create-secret", "--name", p.json_secret, "--value", "$DB_JSON", why="version 1"),
                     akeyless_cli("update-secret-val", "--name", p.json_secret, "--value", "$DB_JSON_V2",
                                  why="version 2"))

    @staticmethod
    def _db_json(host: str) -> str:
        return json.dumps({"host": host, "port": "5432", "username": "app", "password": secrets.token_urlsafe(12)})

    def versions_external_secret(self, version: str = "1") -> Manifest:
        p = self.p
        return m.external_secret(f"{p.k8s_secret}-versions", p.namespace, self.store(), refresh=p.refresh_interval,
                                 data=[m.ref("host-pinned", p.json_secret, prop="host", version=version),
                                       m.ref("host-latest", p.json_secret, prop="host"),
                                       m.ref("password", p.json_secret, prop="password")])

    def versions(self, version: str = "1"):
        manifest = self.versions_external_secret(version)
        verdict = self.apply(manifest)
        name = manifest.body["metadata"]["name"]
        secret = self.secret(name)
        rows = [("host-pinned (version " + version + ")", self._plain(name, "host-pinned")),
                ("host-latest (no version: 0 = latest)", self._plain(name, "host-latest")),
                ("password (property)", mask_secret(self._value(name, "password") or "", self.p.reveal))]
        note = Note(verdict.summary() if not verdict.ok else
                    f"one JSON secret, three keys: version {version} pinned, the latest, and one property", rows,
                    title="versions and properties", ok=verdict.ok)
        return _Parts([manifest, note] + ([] if verdict.ok else [verdict]) + ([secret] if secret and verdict.ok else []))

    def _plain(self, name: str, key: str) -> str:
        """A value that is not secret (a host name), shown as is."""
        return self._value(name, key) or "(absent)"

    def missing_version(self):
        """Version 99 does not exist: ESO's verdict, and the Secret keeps its last good data."""
        manifest = self.versions_external_secret("99")
        verdict = self.apply(manifest)
        kept = self._plain(manifest.body["metadata"]["name"], "host-pinned")
        self.apply(self.versions_external_secret("1"))      # back to a version that exists, for the cells after
        return _Parts([verdict, Note(f"the Secret kept its last synced data (host-pinned = {kept}) while the "
                                     "ExternalSecret was failing", title="Secret")])

    # --- 4. many keys at once ---------------------------------------------------------------------------

    def extract(self):
        manifest = m.external_secret(f"{self.p.k8s_secret}-extract", self.p.namespace, self.store(),
                                     refresh=self.p.refresh_interval, data_from=[m.extract(self.p.json_secret)])
        verdict = self.apply(manifest)
        return _Parts([manifest, verdict] + _some(self.secret(manifest.body["metadata"]["name"])))

    def seed_catalog(self) -> Note:
        """Three items under the catalog folder, two tagged for find by tags; the role has no rule there yet."""
        p = self.p
        for by in ("path", "tag"):      # a Secret a previous run's find wrote would hide what the role allows now
            eso_controller.delete(self.cluster, self.find_external_secret(by))
            if self.secret(f"{p.k8s_secret}-find-{by}"):
                self.cluster.delete_secret(p.namespace, f"{p.k8s_secret}-find-{by}")
        for name, tags in (("alpha", [p.find_tag]), ("beta", [p.find_tag]), ("gamma", [])):
            path = f"{p.catalog}/{name}"
            self.session.recreate(lambda x=path: ak.delete_item(self.akeyless, x),
                                  lambda x=path, t=tags: ak.create_secret(self.akeyless, x, secrets.token_urlsafe(12),
                                                                          tags=t or None))
        self.set_catalog_rule(None)
        return shown(Note(f"{p.catalog}/alpha, beta (tagged {p.find_tag}) and gamma; role {p.role} has no rule on "
                          f"{p.catalog}/* yet", title="catalog"), "the catalog",
                     akeyless_cli("create-secret", "--name", f"{p.catalog}/alpha", "--value", "$V", "--tag",
                                  p.find_tag, why="one tagged item"))

    def set_catalog_rule(self, capabilities: list[str] | None) -> None:
        rule = f"{self.p.catalog}/*"
        try:
            ak.delete_role_rule(self.akeyless, self.p.role, rule)
        except AkeylessError as exc:
            if exc.status not in (404, None, 400):
                raise
        if capabilities:
            ak.set_role_rule(self.akeyless, self.p.role, rule, list(capabilities))

    def find_external_secret(self, by: str = "path") -> Manifest:
        p = self.p
        found = m.find_by_path(p.catalog) if by == "path" else m.find_by_tag(p.find_tag, p.catalog)
        return m.external_secret(f"{p.k8s_secret}-find-{by}", p.namespace, self.store(), refresh=p.refresh_interval,
                                 data_from=[found])

    def find(self, by: str = "path"):
        manifest = self.find_external_secret(by)
        verdict = self.apply(manifest)
        return _Parts([manifest, verdict] + _some(self.secret(manifest.body["metadata"]["name"])))

    def grant_find(self, capabilities: tuple = ("read", "list")):
        self.set_catalog_rule(list(capabilities))
        role = ak.get_role(self.akeyless, self.p.role)
        return shown(role, "the rule find needs",
                     akeyless_cli("set-role-rule", "--role-name", self.p.role, "--path", f"{self.p.catalog}/*",
                                  *sum((["--capability", c] for c in capabilities), []), why="list and read"))

    # --- 5. shaping the Secret ------------------------------------------------------------------------------

    def template_external_secret(self) -> Manifest:
        p = self.p
        url = "postgres://{{ .username }}:{{ .password }}@{{ .host }}:{{ .port }}/app"
        return m.external_secret(f"{p.k8s_secret}-url", p.namespace, self.store(), refresh=p.refresh_interval,
                                 data_from=[m.extract(p.json_secret)],
                                 target={"template": {"engineVersion": "v2", "data": {"url": url}}})

    def template(self):
        manifest = self.template_external_secret()
        verdict = self.apply(manifest)
        return _Parts([manifest, verdict] + _some(self.secret(manifest.body["metadata"]["name"])))

    def docker_config(self):
        p = self.p
        auth = '{{ printf "%s:%s" .username .password | b64enc }}'
        config = '{"auths":{"registry.example.com":{"auth":"' + auth + '"}}}'
        manifest = m.external_secret(f"{p.k8s_secret}-registry", p.namespace, self.store(), refresh=p.refresh_interval,
                                     data_from=[m.extract(p.json_secret)],
                                     target={"template": {"type": "kubernetes.io/dockerconfigjson",
                                                          "data": {".dockerconfigjson": config}}})
        verdict = self.apply(manifest)
        return _Parts([manifest, verdict] + _some(self.secret(manifest.body["metadata"]["name"])))

    def creation_policies(self) -> Note:
        """Owner, Orphan and Merge, each shown by what happens to the Secret (and when its ExternalSecret goes)."""
        p, rows = self.p, []
        base = m.external_secret("x", p.namespace, self.store(), refresh=p.refresh_interval,
                                 data=[m.ref("password", p.secret_path)])
        for policy in ("Owner", "Orphan", "Merge"):
            name = f"{p.k8s_secret}-{policy.lower()}"
            manifest = m.with_target(m.renamed(base, name), creationPolicy=policy)
            if policy == "Merge":
                self.cluster.write_secret(p.namespace, name, {"kept": "written by another tool"})
            elif self.secret(name):
                self.cluster.delete_secret(p.namespace, name)
            verdict = self.apply(manifest)
            secret = self.secret(name)
            owned = bool(secret and secret.owner_references)
            eso_controller.delete(self.cluster, manifest)
            after = self._collected(name) if owned else "Secret kept (nothing owns it)"
            rows.append((policy, f"{'synced' if verdict.ok else verdict.message}; keys {secret.keys if secret else []}; "
                                 f"owner reference: {'yes' if owned else 'no'}; ExternalSecret deleted: {after}"))
        return shown(Note("creationPolicy decides who owns the Secret and whether it outlives its ExternalSecret", rows,
                          ("creationPolicy", "what happened"), title="creationPolicy"), "creationPolicy",
                     kubectl("get", "secret", f"{p.k8s_secret}-owner", "-n", p.namespace, "-o",
                             "jsonpath={.metadata.ownerReferences[*].kind}", why="Owner: the ExternalSecret owns it"))

    def _collected(self, name: str, timeout: float = 15.0) -> str:
        """The garbage collector deletes an owned Secret shortly after its owner: wait (bounded) to see it."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.secret(name) is None:
                return "Secret deleted with it (garbage collector)"
            time.sleep(0.2)
        return f"Secret still there after {timeout:.0f} s"

    def deletion_policies(self) -> Note:
        """Retain, Delete and Merge: what ESO does to the Secret when `find` comes back empty (the items were
        deleted in Akeyless), and why a deleted item read through `data` is an error instead."""
        p, rows = self.p, []
        for policy, creation in (("Retain", "Owner"), ("Delete", "Owner"), ("Merge", "Merge")):
            name = f"{p.k8s_secret}-del-{policy.lower()}"
            folder = f"{p.folder}/gone-{policy.lower()}"
            self.session.recreate(lambda: ak.delete_item(self.akeyless, folder + "/one"),
                                  lambda: ak.create_secret(self.akeyless, folder + "/one", secrets.token_urlsafe(12)))
            manifest = m.external_secret(name, p.namespace, self.store(), refresh=p.refresh_interval,
                                         data_from=[m.find_by_path(folder)],
                                         target={"creationPolicy": creation, "deletionPolicy": policy})
            if creation == "Merge":
                self.cluster.write_secret(p.namespace, name, {"kept": "written by another tool"})
            elif self.secret(name):
                self.cluster.delete_secret(p.namespace, name)
            first = self.apply(manifest)
            before = self.secret(name)
            ak.delete_item(self.akeyless, folder + "/one")
            later = self.resync(manifest)
            after = self.secret(name)
            rows.append((policy, f"before: keys {before.keys if before else []} ({'synced' if first.ok else first.reason});"
                                 f" items deleted, ESO: {later.ready.message if later.ready else 'no verdict'}; "
                                 f"Secret now: {after.keys if after else 'deleted'}"))
            eso_controller.delete(self.cluster, manifest)
        rows.append(("(data[] instead of find)", "a deleted item read through data[].remoteRef is an error for ESO "
                     "v0.16.2's Akeyless provider (item does not exist), not 'no secret': the ExternalSecret turns "
                     "SecretSyncedError and the Secret keeps its data whatever the deletionPolicy"))
        return Note("deletionPolicy decides what ESO does to the Secret when the provider has nothing for it", rows,
                    ("deletionPolicy", "what happened"), title="deletionPolicy")

    # --- 6. sharing a store ---------------------------------------------------------------------------------

    def cluster_store(self, namespaces: list[str] | None = None) -> Manifest:
        p = self.p
        return m.cluster_store(self.store(), f"{p.k8s_secret}-shared", p.namespace,
                               namespaces if namespaces is not None else [p.namespace])

    def shared_external_secret(self, namespace: str) -> Manifest:
        store = self.cluster_store()
        return m.external_secret(f"{self.p.k8s_secret}-shared", namespace, store, refresh=self.p.refresh_interval,
                                 data=[m.ref("password", self.p.secret_path)])

    def share_store(self):
        store = self.cluster_store()
        verdict = self.apply(store)
        inside = self.apply(self.shared_external_secret(self.p.namespace))
        return _Parts([store, verdict, inside])

    def outside_namespace(self):
        ns = self.p.other_namespace
        self.cluster.ensure_namespace(ns)
        return self.apply(self.shared_external_secret(ns))

    # --- 7. the other direction: PushSecret ------------------------------------------------------------------

    def push_secret(self) -> Manifest:
        p = self.p
        return m.push_secret(f"{p.k8s_secret}-push", p.namespace, self.store(), f"{p.k8s_secret}-source", "api-token",
                             f"{p.pushed}/api-token", refresh=p.refresh_interval)

    def push(self, grant: bool):
        """The PushSecret, without (grant=False) then with the rule that lets the role create the item."""
        p = self.p
        rule = f"{p.pushed}/*"
        if grant:
            ak.set_role_rule(self.akeyless, p.role, rule, ["read", "create", "update", "delete"])
        else:
            try:
                ak.delete_role_rule(self.akeyless, p.role, rule)
            except AkeylessError:
                pass
            try:
                ak.delete_item(self.akeyless, f"{p.pushed}/api-token")
            except AkeylessError:
                pass
            self.cluster.write_secret(p.namespace, f"{p.k8s_secret}-source", {"api-token": secrets.token_urlsafe(18)})
        manifest = self.push_secret()
        verdict = self.apply(manifest)
        capability = ((self.cluster.get_object(*_ident(self.store())) or {}).get("status") or {}).get("capabilities")
        pushed = self.session.exists(lambda: ak.get_secret_value(self.akeyless, f"{p.pushed}/api-token"))
        rows = [("SecretStore status.capabilities", capability or "(none)"),
                ("PushSecret", verdict.summary()),
                (f"item {p.pushed}/api-token in Akeyless", "exists" if pushed else "absent")]
        parts = [Note("ESO pushed the Secret to Akeyless" if pushed else "nothing was pushed", rows, title="PushSecret",
                      ok=pushed == grant)]
        if grant:
            parts.append(ak.get_role(self.akeyless, p.role))
        return _Parts(([manifest] if not grant else []) + parts)

    def unpush(self) -> Note:
        """Deleting the PushSecret with deletionPolicy Delete removes the item it created (tagged by ESO)."""
        p = self.p
        eso_controller.delete(self.cluster, self.push_secret())
        start = time.monotonic()
        while time.monotonic() - start < 15:
            if not self.session.exists(lambda: ak.get_secret_value(self.akeyless, f"{p.pushed}/api-token")):
                break
            time.sleep(0.2)
        gone = not self.session.exists(lambda: ak.get_secret_value(self.akeyless, f"{p.pushed}/api-token"))
        return Note("PushSecret deleted: " + ("ESO deleted the item it had created" if gone else
                                              "the item is still in Akeyless"),
                    [("deletionPolicy", "Delete (Retain, the default, leaves the item)")], title="PushSecret",
                    ok=True)

    # --- 8. watching ESO ------------------------------------------------------------------------------------

    def events(self) -> Note:
        rows = []
        for name in (self.p.k8s_secret, f"{self.p.k8s_secret}-versions"):
            for e in self.cluster.events_for(self.p.namespace, "ExternalSecret", name)[-3:]:
                rows.append((f"{name}: {e['type']} {e['reason']}", f"{e['message']} (x{e['count']})"))
        return shown(Note("the controller's events on the chapter's ExternalSecrets (latest three each)", rows,
                          ("object: event", "message"), title="events"), "events",
                     kubectl("get", "events", "-n", self.p.namespace, "--field-selector",
                             "involvedObject.kind=ExternalSecret", why="the controller's events"),
                     kubectl("describe", "externalsecret", self.p.k8s_secret, "-n", self.p.namespace,
                             why="conditions and events together"))

    def metrics(self):
        """ESO's own counters, scraped from its metrics endpoint: reconciles per kind, syncs per ExternalSecret
        of this namespace, and the provider's calls to Akeyless."""
        from ... import eso_metrics
        if not self.session.settings.is_lab:
            return Note("on a cluster: kubectl -n external-secrets port-forward svc/external-secrets-metrics 8080, "
                        "then read http://127.0.0.1:8080/metrics", title="metrics")
        read = eso_metrics.read(self.session.lab)
        shown_es = [self.p.k8s_secret, f"{self.p.k8s_secret}-versions"]     # one always synced, one that failed
        rows = [row for row in read.rows() if row[0].startswith("reconciler ")]
        rows += [(f"ExternalSecret {self.p.namespace}/{name}", "sync calls {}, errors {}".format(
            *read.of(self.p.namespace, name))) for name in shown_es]
        rows += [(f"provider call {call}", f"{status} {int(n)}") for (call, status), n in sorted(read.provider_calls.items())]
        note = Note(read.summary(), rows, ("metric", "value"), title="ESO metrics", ok=bool(rows))
        return shown(note, "metrics", kubectl("port-forward", "-n", "external-secrets", "svc/external-secrets-metrics",
                                              "8080", why="then: curl -s 127.0.0.1:8080/metrics | grep externalsecret_"))

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


def _ident(manifest: Manifest):
    meta = manifest.body["metadata"]
    return manifest.body["apiVersion"], manifest.kind, meta.get("namespace"), meta["name"]


def _some(x) -> list:
    return [x] if x is not None else []


class _Parts(Result):
    """Several results shown as one cell's output; its text is their summaries."""

    title = "result"

    def __init__(self, parts: list):
        self.parts = [p for p in parts if p is not None]

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return all(getattr(p, "ok", True) for p in self.parts)

    def summary(self) -> str:
        return "\n".join(p.summary() if hasattr(p, "summary") else repr(p) for p in self.parts)

    def _ipython_display_(self):
        from ...display import show_all
        show_all(*self.parts)


Chapter = SyncingWithEso
