"""Chapter 3, sections 2 to 4: how ESO reads Akeyless over time (refresh, rotation, force-sync, what a
workload sees), which value it reads (versions, properties) and how many (extract, find by path and tags)."""
from __future__ import annotations

import json
import secrets
import time

from ... import akeyless_client as ak
from ... import eso_controller
from ...display import Note, mask_secret
from ...eso import Manifest
from . import manifests as m
from .live import WAIT, Parts, akeyless_cli, applied, kubectl, shown, some, tolerate_absent


class Reading:
    """Sections 2-4 of the chapter (mixed into SyncingWithEso)."""

    # --- 2. refresh and rotation -------------------------------------------------------------------------

    def rotate(self) -> Note:
        """A new value in Akeyless; the Secret follows at ESO's next refresh: the delay measured."""
        self.require(self.base_secret(), "sync", 1)
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
        self.require(self.base_secret(), "sync", 1)
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
        return applied(manifest, note, *([] if verdict.ok else [verdict]) + ([secret] if secret and verdict.ok else []),
                       step="version and property")

    def _plain(self, name: str, key: str) -> str:
        """A value that is not secret (a host name), shown as is."""
        return self._value(name, key) or "(absent)"

    def missing_version(self):
        """Version 99 does not exist: ESO's verdict, and the Secret keeps its last good data."""
        manifest = self.versions_external_secret("99")
        verdict = self.apply(manifest)
        kept = self._plain(manifest.body["metadata"]["name"], "host-pinned")
        self.apply(self.versions_external_secret("1"))      # back to a version that exists, for the cells after
        return Parts([verdict, Note(f"the Secret kept its last synced data (host-pinned = {kept}) while the "
                                     "ExternalSecret was failing", title="Secret")])

    # --- 4. many keys at once ---------------------------------------------------------------------------

    def extract(self):
        manifest = m.external_secret(f"{self.p.k8s_secret}-extract", self.p.namespace, self.store(),
                                     refresh=self.p.refresh_interval, data_from=[m.extract(self.p.json_secret)])
        verdict = self.apply(manifest)
        return applied(manifest, verdict, *some(self.secret(manifest.body["metadata"]["name"])), step="extract")

    def seed_catalog(self) -> Note:
        """Three items under the catalog folder, two tagged for find by tags; the role has no rule there yet."""
        p = self.p
        for by in ("path", "tag"):      # a Secret a previous run's find wrote would hide what the role allows now
            eso_controller.delete(self.cluster, self.find_external_secret(by))
            self.fresh_target(f"{p.k8s_secret}-find-{by}")
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
        tolerate_absent(lambda: ak.delete_role_rule(self.akeyless, self.p.role, rule))
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
        return applied(manifest, verdict, *some(self.secret(manifest.body["metadata"]["name"])), step="find")

    def grant_find(self, capabilities: tuple = ("read", "list")):
        self.set_catalog_rule(list(capabilities))
        role = ak.get_role(self.akeyless, self.p.role)
        return shown(role, "the rule find needs",
                     akeyless_cli("set-role-rule", "--role-name", self.p.role, "--path", f"{self.p.catalog}/*",
                                  *sum((["--capability", c] for c in capabilities), []), why="list and read"))
