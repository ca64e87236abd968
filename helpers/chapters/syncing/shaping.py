"""Chapter 3, sections 5 to 8: how ESO shapes the Secret (templates, creationPolicy, deletionPolicy), shares
a store between namespaces, pushes the other way (PushSecret), and reports what it does (events, metrics)."""
from __future__ import annotations

import secrets
import time

from ... import akeyless_client as ak
from ... import eso_controller
from ...display import Note
from ...errors import NotReady
from ...eso import Manifest
from . import manifests as m
from .live import Parts, akeyless_cli, applied, ident, kubectl, shown, some, tolerate_absent


class Shaping:
    """Sections 5-8 of the chapter (mixed into SyncingWithEso)."""

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
        return applied(manifest, verdict, *some(self.secret(manifest.body["metadata"]["name"])), step="template")

    def docker_config(self):
        p = self.p
        auth = '{{ printf "%s:%s" .username .password | b64enc }}'
        config = '{"auths":{"registry.example.com":{"auth":"' + auth + '"}}}'
        manifest = m.external_secret(f"{p.k8s_secret}-registry", p.namespace, self.store(), refresh=p.refresh_interval,
                                     data_from=[m.extract(p.json_secret)],
                                     target={"template": {"type": "kubernetes.io/dockerconfigjson",
                                                          "data": {".dockerconfigjson": config}}})
        verdict = self.apply(manifest)
        return applied(manifest, verdict, *some(self.secret(manifest.body["metadata"]["name"])),
                       step="a typed Secret")

    def creation_policies(self) -> Note:
        """Owner, Orphan and Merge, each shown by what happens to the Secret (and when its ExternalSecret goes)."""
        p, rows = self.p, []
        base = m.external_secret("x", p.namespace, self.store(), refresh=p.refresh_interval,
                                 data=[m.ref("password", p.secret_path)])
        for policy in ("Owner", "Orphan", "Merge"):
            name = f"{p.k8s_secret}-{policy.lower()}"
            manifest = m.with_target(m.renamed(base, name), creationPolicy=policy)
            self.fresh_target(name, merge=policy == "Merge")
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
            self.fresh_target(name, merge=creation == "Merge")
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
        return shown(Note("deletionPolicy decides what ESO does to the Secret when the provider has nothing for it",
                          rows, ("deletionPolicy", "what happened"), title="deletionPolicy"), "deletionPolicy",
                     akeyless_cli("delete-item", "--name", f"{p.folder}/gone-delete/one", why="the item goes"),
                     kubectl("annotate", "externalsecret", f"{p.k8s_secret}-del-delete", "-n", p.namespace,
                             'force-sync="$(date +%s)"', "--overwrite", why="ESO looks again at once"))

    # --- 6. sharing a store ---------------------------------------------------------------------------------

    SHARED_LABEL = {"workshop.akeyless.io/shared-store": "allowed"}

    def cluster_store(self) -> Manifest:
        """Admits the chapter's namespace by name, and any namespace labelled SHARED_LABEL."""
        p = self.p
        return m.cluster_store(self.store(), f"{p.k8s_secret}-shared", p.namespace, [p.namespace], self.SHARED_LABEL)

    def _label_other_namespace(self, labelled: bool) -> None:
        """Server-side apply of the namespace's labels: applying without the label removes the one we set."""
        self.cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": self.p.other_namespace, "labels": dict(self.SHARED_LABEL) if labelled else {}}},
            field_manager="workshop-chapter3")

    def shared_external_secret(self, namespace: str) -> Manifest:
        store = self.cluster_store()
        return m.external_secret(f"{self.p.k8s_secret}-shared", namespace, store, refresh=self.p.refresh_interval,
                                 data=[m.ref("password", self.p.secret_path)])

    def share_store(self):
        store = self.cluster_store()
        verdict = self.apply(store)
        inside = self.apply(self.shared_external_secret(self.p.namespace))
        return applied(store, verdict, inside, step="ClusterSecretStore")

    def outside_namespace(self):
        ns = self.p.other_namespace
        self.require(self.cluster_store(), "share_store", 6)
        self.cluster.ensure_namespace(ns)
        self._label_other_namespace(False)
        return applied(self.shared_external_secret(ns), self.apply(self.shared_external_secret(ns)),
                       step="a namespace outside the conditions")

    def admit_by_label(self):
        """The same namespace, labelled: the store's namespaceSelector condition now admits it."""
        ns = self.p.other_namespace
        external = self.shared_external_secret(ns)
        self.require(external, "outside_namespace", 6)
        self._label_other_namespace(True)
        verdict = self.resync(external)
        key, value = next(iter(self.SHARED_LABEL.items()))
        return shown(verdict, "admit a namespace by label",
                     kubectl("label", "namespace", ns, f"{key}={value}", why="the namespaceSelector condition matches"))

    # --- 7. the other direction: PushSecret ------------------------------------------------------------------

    def push_secret(self) -> Manifest:
        p = self.p
        return m.push_secret(f"{p.k8s_secret}-push", p.namespace, self.store(), f"{p.k8s_secret}-source", "api-token",
                             f"{p.pushed}/api-token", refresh=p.refresh_interval)

    @property
    def pushed_item(self) -> str:
        return f"{self.p.pushed}/api-token"

    def push(self, grant: bool):
        """The PushSecret: without (grant=False: the rule and any earlier pushed item removed first) and with
        the rule that lets the role create the item."""
        p = self.p
        rule = f"{p.pushed}/*"
        source = f"{p.k8s_secret}-source"
        if grant:
            ak.set_role_rule(self.akeyless, p.role, rule, ["read", "create", "update", "delete"])
        else:
            tolerate_absent(lambda: ak.delete_role_rule(self.akeyless, p.role, rule))
            tolerate_absent(lambda: ak.delete_item(self.akeyless, self.pushed_item))
        if not grant or self.secret(source) is None:
            self.cluster.write_secret(p.namespace, source, {"api-token": secrets.token_urlsafe(18)})
        manifest = self.push_secret()
        verdict = self.apply(manifest)
        capability = ((self.cluster.get_object(*ident(self.store())) or {}).get("status") or {}).get("capabilities")
        pushed = self.session.exists(lambda: ak.get_secret_value(self.akeyless, self.pushed_item))
        rows = [("SecretStore status.capabilities", capability or "(none)"),
                ("PushSecret", verdict.summary()),
                (f"item {self.pushed_item} in Akeyless", "exists" if pushed else "absent")]
        note = Note("ESO pushed the Secret to Akeyless" if pushed else "nothing was pushed", rows, title="PushSecret",
                    ok=pushed == grant)
        if not grant:
            return applied(manifest, note, step="PushSecret")
        return shown(Parts([note, ak.get_role(self.akeyless, p.role)]), "the rule PushSecret needs",
                     akeyless_cli("set-role-rule", "--role-name", p.role, "--path", rule, "--capability", "create",
                                  "--capability", "update", "--capability", "read", "--capability", "delete",
                                  why="create for the first push, update for later ones"))

    def unpush(self) -> Note:
        """Deleting the PushSecret with deletionPolicy Delete removes the item it created (tagged by ESO)."""
        p = self.p
        if not self.session.exists(lambda: ak.get_secret_value(self.akeyless, self.pushed_item)):
            raise NotReady(f"there is no pushed item {self.pushed_item} to watch ESO delete", "chapter.push(grant=True)",
                           7)
        eso_controller.delete(self.cluster, self.push_secret())
        start = time.monotonic()
        while time.monotonic() - start < 15 and self.session.exists(
                lambda: ak.get_secret_value(self.akeyless, self.pushed_item)):
            time.sleep(0.2)
        gone = not self.session.exists(lambda: ak.get_secret_value(self.akeyless, self.pushed_item))
        note = Note("PushSecret deleted: " + ("ESO deleted the item it had created" if gone else
                                              "the item is still in Akeyless"),
                    [("deletionPolicy", "Delete (None, the default, leaves the item)")], title="PushSecret", ok=gone)
        return shown(note, "delete the PushSecret", kubectl("delete", "pushsecret", f"{p.k8s_secret}-push", "-n",
                                                            p.namespace, why="ESO's finalizer deletes the pushed item"))

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
