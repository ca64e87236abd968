"""Chapter 3's four exercises, each on objects of its own (`<k8s_secret>-ex<N>`, a folder or store of its
own), so that a wrong answer never touches what the chapter's later cells use. Every check reads the live
cluster and Akeyless, not the answer text.

1. a second key: `data` entries of an ExternalSecret (YAML), the JSON secret's `username` added;
2. a rule for `find`: the path and capabilities a role rule needs so that `find` lists and reads a folder;
3. a template: the connection string built from the JSON secret's fields;
4. one more namespace: the `namespaces` of a ClusterSecretStore condition, admitting <namespace>-team-b.
"""
from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING

from ... import akeyless_client as ak
from ... import eso_controller
from ...access import path_matches, validate_capabilities
from ...display import Note
from ...errors import ClusterError
from ...exercises import AnswerError, Exercise, Verdict, parse_yaml
from . import manifests as m
from .live import tolerate_absent

if TYPE_CHECKING:
    from .chapter import SyncingWithEso


def _data_entries(text) -> list:
    entries = parse_yaml(text, list, "a YAML list of data entries (- secretKey: ..., remoteRef: {...})")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "secretKey" not in entry or not isinstance(entry.get("remoteRef"), dict):
            raise AnswerError(f"entry {i + 1} needs secretKey and remoteRef (remoteRef: {{key: ..., property: ...}})")
    return entries


def _rule(text) -> dict:
    rule = parse_yaml(text, dict, "a YAML mapping with path and capabilities")
    if not isinstance(rule.get("path"), str) or not isinstance(rule.get("capabilities"), list):
        raise AnswerError("the rule needs path (a string) and capabilities (a list such as [read])")
    try:
        rule["capabilities"] = validate_capabilities(rule["capabilities"])
    except ValueError as exc:
        raise AnswerError(str(exc)) from None
    return rule


def _namespaces(text) -> list:
    names = parse_yaml(text, list, "a YAML list of namespace names")
    if not all(isinstance(n, str) for n in names):
        raise AnswerError("every entry of namespaces is a namespace name (a string)")
    return names


def _template(text) -> str:
    if not isinstance(text, str) or "{{" not in text:
        raise AnswerError("the template is a string with Go template fields such as {{ .host }}")
    return text.strip()


class Exercises:
    """The four exercises of chapter 3 on one chapter object."""

    def __init__(self, chapter: "SyncingWithEso"):
        self.c = chapter
        self.p = chapter.p
        self._learner_rule: str | None = None

    def get(self, number: int) -> Exercise:
        builders = {1: self._second_key, 2: self._find_rule, 3: self._template, 4: self._namespace}
        if number not in builders:
            raise AnswerError(f"chapter 3 has exercises 1..{len(builders)}, not {number}")
        return builders[number]()

    def objects(self) -> list:
        """Every object the exercises apply, for the chapter's cleanup."""
        return ([self._external_secret(n) for n in (1, 2, 3)] + [self._external_secret(4, namespace=self.p.team_b),
                                                                self._store([])])

    def _name(self, n: int) -> str:
        return f"{self.p.k8s_secret}-ex{n}"

    def _external_secret(self, n: int, *, data=None, data_from=None, target=None, store=None, namespace=None):
        return m.external_secret(self._name(n), namespace or self.p.namespace, store or self.c.store(),
                                 refresh=self.p.refresh_interval, data=data, data_from=data_from, target=target)

    def _json(self) -> dict:
        return json.loads(ak.get_secret_value(self.c.akeyless, self.p.json_secret).value)

    def _synced(self, n: int, namespace: str | None = None):
        """The exercise's ExternalSecret's verdict and Secret, or a Verdict saying which cell to run first."""
        manifest = self._external_secret(n, namespace=namespace)
        try:
            status = eso_controller.status(self.c.cluster, manifest)
        except ClusterError:
            return None, None, Verdict(f"exercise {n}", False, f"there is no ExternalSecret {self._name(n)}",
                                       "run the answer cell above first")
        return status, self.c.secret(self._name(n), namespace), None

    # --- 1. a second key -----------------------------------------------------------------------------

    def _second_key(self) -> Exercise:
        p = self.p
        solution = (f"- secretKey: password\n  remoteRef: {{key: {p.json_secret}, property: password}}\n"
                    f"- secretKey: username\n  remoteRef: {{key: {p.json_secret}, property: username}}\n")
        return Exercise(1, "a second key", f"Add to Secret {self._name(1)} a key `username` holding the "
                        f"`username` field of {p.json_secret}.", solution,
                        "one data entry per key: secretKey names the Kubernetes key, remoteRef.key the item and "
                        "remoteRef.property the JSON field (ESO reads it with a gjson path)",
                        _data_entries, lambda entries: self.c.apply(self._external_secret(1, data=entries)),
                        self._check_second_key, self.p.apply_solutions)

    def _check_second_key(self) -> Verdict:
        status, secret, missing = self._synced(1)
        if missing:
            return missing
        name = "exercise 1 (a second key)"
        if not status.ok:
            return Verdict(name, False, f"ESO could not sync it: {status.message}",
                           "remoteRef.key is the item's full path and property a field of its JSON "
                           "(host, port, username, password)")
        if secret is None or "username" not in secret.data:
            return Verdict(name, False, f"Secret {self._name(1)} has keys {secret.keys if secret else []}",
                           "add a second entry whose secretKey is username", [("keys", secret.keys if secret else [])])
        if secret.data["username"] != self._json()["username"]:
            return Verdict(name, False, "key username does not hold the JSON's username field",
                           "set remoteRef.property: username (without it ESO copies the whole JSON)")
        return Verdict(name, True, f"Secret {self._name(1)} holds {secret.keys}, username from {self.p.json_secret}",
                       evidence=[("keys", secret.keys), ("ExternalSecret", f"Ready={status.ready.status} {status.ready.reason}")])

    # --- 2. a rule so that find works ---------------------------------------------------------------

    @property
    def shelf(self) -> str:
        return self.p.folder + "-shelf"

    def _find_rule(self) -> Exercise:
        solution = f"path: {self.shelf}/*\ncapabilities: [read, list]\n"
        return Exercise(2, "a rule for find", f"ExternalSecret {self._name(2)} finds every item under {self.shelf}. "
                        f"Write the rule role {self.p.role} needs so that the Secret gets them all.", solution,
                        "find first lists the folder (list), then reads each item it found (read); a path ending in "
                        "/* covers everything under the folder", _rule, self._apply_rule, self._check_find_rule,
                        self.p.apply_solutions)

    def prepare_shelf(self) -> Note:
        """The exercise's folder: two items, and no rule on them yet."""
        for name in ("north", "south"):
            path = f"{self.shelf}/{name}"
            self.c.session.recreate(lambda x=path: ak.delete_item(self.c.akeyless, x),
                                    lambda x=path: ak.create_secret(self.c.akeyless, x, secrets.token_urlsafe(12)))
        self._drop_rule(f"{self.shelf}/*")
        return Note(f"{self.shelf}/north and {self.shelf}/south created; role {self.p.role} has no rule on them",
                    title="exercise 2")

    def _drop_rule(self, path: str | None) -> None:
        if path:
            tolerate_absent(lambda: ak.delete_role_rule(self.c.akeyless, self.p.role, path))

    def _apply_rule(self, rule: dict):
        self._drop_rule(self._learner_rule)
        ak.set_role_rule(self.c.akeyless, self.p.role, rule["path"], rule["capabilities"])
        self._learner_rule = rule["path"]
        return self.c.apply(self._external_secret(2, data_from=[m.find_by_path(self.shelf)]))

    def _check_find_rule(self) -> Verdict:
        status, secret, missing = self._synced(2)
        if missing:
            return missing
        name = "exercise 2 (a rule for find)"
        rules = [(path, caps) for path, caps, kind in ak.get_role(self.c.akeyless, self.p.role).rules
                 if kind == "item-rule" and path_matches(path, f"{self.shelf}/north")]
        if not rules:
            return Verdict(name, False, f"no rule of role {self.p.role} covers {self.shelf}/north",
                           f"a rule path covers items under a folder when it ends in /*, e.g. {self.shelf}/*")
        caps = sorted({c for _, cs in rules for c in cs})
        if not status.ok:
            return Verdict(name, False, f"ESO: {status.message}", "find reads every item it lists: the rule needs "
                           "read as well as list", [("capabilities on the folder", caps)])
        keys = secret.keys if secret else []
        if keys != ["north", "south"]:
            return Verdict(name, False, f"Secret {self._name(2)} has keys {keys}, not north and south",
                           "find lists only what the role may list: the rule needs list (read implies it)",
                           [("capabilities on the folder", caps)])
        return Verdict(name, True, f"find listed and read both items: Secret keys {keys}",
                       evidence=[("rule", f"{rules[0][0]} {rules[0][1]}")])

    # --- 3. a template ------------------------------------------------------------------------------

    def _template(self) -> Exercise:
        solution = "postgres://{{ .username }}:{{ .password }}@{{ .host }}:{{ .port }}/app"
        return Exercise(3, "a template", f"Secret {self._name(3)} gets one key, url, from a template over the "
                        f"fields of {self.p.json_secret}: postgres://USER:PASSWORD@HOST:PORT/app.", solution,
                        "with dataFrom extract every JSON field is a template variable (.host, .password...); "
                        "engineVersion v2 is ESO's current template engine", _template, self._apply_template,
                        self._check_template, self.p.apply_solutions)

    def _apply_template(self, template: str):
        target = {"template": {"engineVersion": "v2", "data": {"url": template}}}
        return self.c.apply(self._external_secret(3, data_from=[m.extract(self.p.json_secret)], target=target))

    def _check_template(self) -> Verdict:
        status, secret, missing = self._synced(3)
        if missing:
            return missing
        name = "exercise 3 (a template)"
        if not status.ok:
            return Verdict(name, False, f"ESO: {status.message}", "fields are written {{ .name }}, with the dot")
        url = (secret.data.get("url") if secret else None) or ""
        fields = self._json()
        expected = f"postgres://{fields['username']}:{fields['password']}@{fields['host']}:{fields['port']}/app"
        if url == expected:
            return Verdict(name, True, "url is the connection string, built by ESO from four fields",
                           evidence=[("url", f"postgres://{fields['username']}:••••••••@{fields['host']}:"
                                             f"{fields['port']}/app")])
        missing_parts = [f for f in ("username", "password", "host", "port") if fields[f] not in url]
        hint = (f"the url lacks {', '.join(missing_parts)}: add {{{{ .{missing_parts[0]} }}}}" if missing_parts else
                "every field is there: check the separators (user:password@host:port/app)")
        return Verdict(name, False, "url is not postgres://USER:PASSWORD@HOST:PORT/app", hint)

    # --- 4. one more namespace for the shared store --------------------------------------------------

    def _store(self, namespaces: list) -> m.Manifest:
        return m.cluster_store(self.c.store(), self._name(4), self.p.namespace, namespaces)

    def _namespace(self) -> Exercise:
        solution = f"- {self.p.namespace}\n- {self.p.team_b}\n"
        return Exercise(4, "one more namespace", f"ClusterSecretStore {self._name(4)} admits only {self.p.namespace}. "
                        f"List the namespaces its condition admits so that {self.p.team_b} may use it too.", solution,
                        "conditions[].namespaces lists the namespaces whose ExternalSecrets may use a "
                        "ClusterSecretStore (namespaceSelector does the same by labels); any other namespace is "
                        "refused by ESO before it calls Akeyless", _namespaces, self._apply_namespaces,
                        self._check_namespace, self.p.apply_solutions)

    def _apply_namespaces(self, namespaces: list):
        self.c.cluster.ensure_namespace(self.p.team_b)
        store = self._store(namespaces)
        self.c.apply(store)
        return self.c.apply(self._external_secret(4, store=store, namespace=self.p.team_b,
                                                  data=[m.ref("password", self.p.secret_path)]))

    def _check_namespace(self) -> Verdict:
        status, secret, missing = self._synced(4, self.p.team_b)
        if missing:
            return missing
        name = "exercise 4 (one more namespace)"
        store = self.c.cluster.get_object(m.API_VERSION, "ClusterSecretStore", None, self._name(4)) or {}
        admitted = [n for c in (store.get("spec") or {}).get("conditions") or [] for n in c.get("namespaces") or []]
        if self.p.team_b not in admitted:
            return Verdict(name, False, f"the store admits {admitted}; ESO: {status.message}",
                           f"add {self.p.team_b} to the condition's namespaces")
        if self.p.namespace not in admitted:
            return Verdict(name, False, f"the store admits {admitted}: {self.p.namespace} lost its access",
                           f"keep {self.p.namespace} in the list and add {self.p.team_b}")
        if not status.ok or secret is None:
            return Verdict(name, False, f"ESO: {status.message}", "re-run the answer cell: ESO re-reads the store")
        return Verdict(name, True, f"{self.p.team_b}/{self._name(4)} synced through the shared store",
                       evidence=[("admitted", admitted), ("ExternalSecret", f"Ready={status.ready.status} {status.ready.reason}")])
