"""The real ESO controller (v0.16.2) against the lab's Akeyless gateway, feature by feature: what chapter 3
shows a learner, checked on ESO itself. Each test names what ESO sends, what the gateway answers and what
ESO then writes or reports (reference: /work/shared/reference/akeyless-api.md §6, read against v0.16.2).

Real stack only (tests/contract/eso_stack.py skips otherwise). Waits are bounded; no durations asserted.
"""
from __future__ import annotations

import base64
import json
import time
import uuid

import pytest

from helpers import akeyless_client as ak
from helpers import eso_controller
from helpers.errors import AkeylessError

from .eso_stack import close_chapter, needs_real_stack, open_chapter

pytestmark = [pytest.mark.apiserver, needs_real_stack]
WAIT = 45.0
ES_API = "external-secrets.io/v1"
PS_API = "external-secrets.io/v1alpha1"
MANAGED_TAG = "k8s-external-secrets"        # ESO's tag on what PushSecret creates (pkg/provider/akeyless)


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    chapter, patch = open_chapter(tmp_path_factory, "eso-features")
    store = chapter.secret_store()
    eso_controller.apply(chapter.cluster, store)
    assert eso_controller.wait(chapter.cluster, store, timeout=WAIT, progress=None).ok
    yield chapter
    close_chapter(chapter, patch)


def _folder(name: str) -> str:
    """A folder of its own under the role's rule (/demo/app/*), so tests never see each other's items."""
    return f"/demo/app/{name}-{uuid.uuid4().hex[:6]}"


def _external(chapter, name: str, spec: dict, *, store_kind: str = "SecretStore", store: str = "akeyless-store",
              namespace: str | None = None) -> dict:
    target = {"name": name, **spec.pop("target", {})}
    return {"apiVersion": ES_API, "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": namespace or chapter.p.namespace},
            "spec": {"refreshInterval": "1h", "secretStoreRef": {"name": store, "kind": store_kind},
                     "target": target, **spec}}


def _sync(chapter, body: dict) -> eso_controller.ControllerStatus:
    eso_controller.apply(chapter.cluster, body)
    return eso_controller.wait(chapter.cluster, body, timeout=WAIT, progress=None)


def _resync(chapter, body: dict) -> eso_controller.ControllerStatus:
    """force-sync, then wait for the sync that followed it (refreshTime has one-second resolution:
    the previous sync's second is left first)."""
    time.sleep(1.1)
    since = eso_controller.force_sync(chapter.cluster, body)
    return eso_controller.wait(chapter.cluster, body, since=since, timeout=WAIT, progress=None)


def _data(chapter, name: str, namespace: str | None = None) -> dict | None:
    secret = chapter.cluster.get_object("v1", "Secret", namespace or chapter.p.namespace, name)
    if secret is None:
        return None
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def _secret(chapter, name: str) -> dict | None:
    return chapter.cluster.get_object("v1", "Secret", chapter.p.namespace, name)


# --- versions and properties -----------------------------------------------------------------------

def test_a_pinned_version_reads_that_version_and_a_missing_one_is_esos_error(chapter):
    path = _folder("versions") + "/db"
    ak.create_secret(chapter.akeyless, path, "version-one")
    ak.update_secret(chapter.akeyless, path, "version-two")
    pinned = _sync(chapter, _external(chapter, "pinned", {"data": [
        {"secretKey": "v", "remoteRef": {"key": path, "version": "1"}}]}))
    assert pinned.ok, pinned.summary()
    assert _data(chapter, "pinned") == {"v": "version-one"}
    missing = _sync(chapter, _external(chapter, "no-such-version", {"data": [
        {"secretKey": "v", "remoteRef": {"key": path, "version": "7"}}]}))
    assert (missing.ready.status, missing.reason) == ("False", "SecretSyncedError")
    assert (f"error processing spec.data[0] (key: {path}), err: can't get secret value: "
            f'{{"error":"failed to get secret value: item {path} has no version 7 (last version is 2)"}}') \
        in missing.message, missing.message
    assert _secret(chapter, "no-such-version") is None


def test_property_picks_one_key_of_a_json_secret_and_names_a_missing_one(chapter):
    path = _folder("json") + "/db"
    ak.create_secret(chapter.akeyless, path, json.dumps({"user": "app", "password": "pw-json", "host": "db"}))
    found = _sync(chapter, _external(chapter, "by-property", {"data": [
        {"secretKey": "user", "remoteRef": {"key": path, "property": "user"}}]}))
    assert found.ok and _data(chapter, "by-property") == {"user": "app"}
    missing = _sync(chapter, _external(chapter, "no-such-property", {"data": [
        {"secretKey": "user", "remoteRef": {"key": path, "property": "login"}}]}))
    assert not missing.ok and f"key login does not exist in value {path}" in missing.message, missing.message


def test_extract_turns_a_json_secret_into_keys(chapter):
    path = _folder("extract") + "/db"
    ak.create_secret(chapter.akeyless, path, json.dumps({"user": "app", "password": "pw-x"}))
    status = _sync(chapter, _external(chapter, "extracted", {"dataFrom": [{"extract": {"key": path}}]}))
    assert status.ok and _data(chapter, "extracted") == {"user": "app", "password": "pw-x"}


# --- find -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def found_folder(chapter):
    """Three items: two tagged `payments` (one also `other`), one untagged, under a folder of their own."""
    folder = _folder("find")
    ak.create_secret(chapter.akeyless, f"{folder}/alpha", "a-value", tags=["payments"])
    ak.create_secret(chapter.akeyless, f"{folder}/beta", "b-value", tags=["payments", "other"])
    ak.create_secret(chapter.akeyless, f"{folder}/gamma", "g-value")
    return folder


def test_find_by_name_under_a_path_with_rewrite(chapter, found_folder):
    status = _sync(chapter, _external(chapter, "found-by-name", {"dataFrom": [
        {"find": {"path": found_folder, "name": {"regexp": "^.*/(alpha|gamma)$"}},
         "rewrite": [{"regexp": {"source": f"{found_folder}/(.*)", "target": "$1"}}]}]}))
    assert status.ok, status.summary()
    assert _data(chapter, "found-by-name") == {"alpha": "a-value", "gamma": "g-value"}


def test_find_without_rewrite_converts_the_item_names_into_keys(chapter, found_folder):
    """v0.16.2 applies the default conversionStrategy when there is no rewrite: `/` becomes `_`."""
    status = _sync(chapter, _external(chapter, "found-raw", {"dataFrom": [
        {"find": {"path": found_folder, "name": {"regexp": "alpha"}}}]}))
    assert status.ok, status.summary()
    assert _data(chapter, "found-raw") == {found_folder.replace("/", "_") + "_alpha": "a-value"}


def test_a_rewrite_that_leaves_a_slash_is_esos_invalid_keys_error(chapter, found_folder):
    status = _sync(chapter, _external(chapter, "found-bad-keys", {"dataFrom": [
        {"find": {"path": found_folder, "name": {"regexp": "alpha"}},
         "rewrite": [{"regexp": {"source": "^/demo/(.*)", "target": "$1"}}]}]}))
    assert (status.ready.status, status.reason) == ("False", "SecretSyncedError")
    assert "invalid secret keys (TIP: use rewrite or conversionStrategy to change keys)" in status.message


def test_find_by_tags_matches_the_tag_values(chapter, found_folder):
    """ESO sends only the values of `tags` (the keys are ignored): `team: payments` lists tag `payments`."""
    status = _sync(chapter, _external(chapter, "found-by-tag", {"dataFrom": [
        {"find": {"path": found_folder, "tags": {"team": "payments"}},
         "rewrite": [{"regexp": {"source": ".*/(.*)", "target": "$1"}}]}]}))
    assert status.ok, status.summary()
    assert _data(chapter, "found-by-tag") == {"alpha": "a-value", "beta": "b-value"}


def test_find_outside_the_roles_rules_lists_nothing_so_eso_writes_nothing(chapter):
    """list-items answers only what the caller may list: with no rule on the folder ESO finds no item,
    reports Ready (DeletionPolicy Retain) and writes no Secret."""
    folder = f"/demo/unlisted-{uuid.uuid4().hex[:6]}"       # outside the role's /demo/app/*
    ak.create_secret(chapter.akeyless, f"{folder}/one", "hidden")
    body = _external(chapter, "found-nothing", {"dataFrom": [
        {"find": {"path": folder, "name": {"regexp": ".*"}},
         "rewrite": [{"regexp": {"source": ".*/(.*)", "target": "$1"}}]}]})
    status = _sync(chapter, body)
    assert (status.ready.status, status.reason) == ("True", "SecretSynced")
    assert status.ready.message == "secret retained due to DeletionPolicy=Retain"
    assert _secret(chapter, "found-nothing") is None
    ak.set_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*", ["list", "read"])
    try:
        assert _resync(chapter, body).ok
        assert _data(chapter, "found-nothing") == {"one": "hidden"}
    finally:
        ak.delete_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*")


# --- shaping the Secret --------------------------------------------------------------------------

def test_a_template_builds_a_connection_string_from_two_items(chapter):
    folder = _folder("template")
    ak.create_secret(chapter.akeyless, f"{folder}/user", "app")
    ak.create_secret(chapter.akeyless, f"{folder}/password", "pw-t")
    status = _sync(chapter, _external(chapter, "connection", {
        "data": [{"secretKey": "user", "remoteRef": {"key": f"{folder}/user"}},
                 {"secretKey": "password", "remoteRef": {"key": f"{folder}/password"}}],
        "target": {"template": {"engineVersion": "v2",
                                "data": {"url": "postgres://{{ .user }}:{{ .password }}@db:5432/app"}}}}))
    assert status.ok, status.summary()
    assert _data(chapter, "connection") == {"url": "postgres://app:pw-t@db:5432/app"}


def test_a_template_writes_a_typed_dockerconfigjson_secret(chapter):
    path = _folder("registry") + "/token"
    ak.create_secret(chapter.akeyless, path, "registry-token")
    config = '{"auths":{"registry.example":{"username":"ci","password":"{{ .token }}"}}}'
    status = _sync(chapter, _external(chapter, "registry", {
        "data": [{"secretKey": "token", "remoteRef": {"key": path}}],
        "target": {"template": {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": config}}}}))
    assert status.ok, status.summary()
    secret = _secret(chapter, "registry")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(_data(chapter, "registry")[".dockerconfigjson"])["auths"]["registry.example"]["password"] \
        == "registry-token"


def test_creation_policies_owner_merge_orphan(chapter):
    path = _folder("creation") + "/key"
    ak.create_secret(chapter.akeyless, path, "created")
    data = [{"secretKey": "key", "remoteRef": {"key": path}}]
    # Merge with no Secret there: ESO waits for one, writes nothing
    waiting = _sync(chapter, _external(chapter, "merge-absent", {"data": data, "target": {"creationPolicy": "Merge"}}))
    assert (waiting.reason, waiting.ready.message) == ("SecretMissing",
                                                       "secret will not be created due to CreationPolicy=Merge")
    assert _secret(chapter, "merge-absent") is None
    # Merge into someone else's Secret: their key stays, no owner is set
    chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": "shared", "namespace": chapter.p.namespace},
                           "stringData": {"theirs": "kept"}})
    assert _sync(chapter, _external(chapter, "merged", {"data": data,
                                                        "target": {"name": "shared", "creationPolicy": "Merge"}})).ok
    assert _data(chapter, "shared") == {"theirs": "kept", "key": "created"}
    assert not _secret(chapter, "shared")["metadata"].get("ownerReferences")
    # Orphan: written without an owner, so deleting the ExternalSecret leaves it
    orphan = _external(chapter, "orphaned", {"data": data, "target": {"creationPolicy": "Orphan"}})
    assert _sync(chapter, orphan).ok
    assert not _secret(chapter, "orphaned")["metadata"].get("ownerReferences")
    eso_controller.delete(chapter.cluster, orphan)
    time.sleep(2)       # what the garbage collector would do, it would have started doing by now
    assert _data(chapter, "orphaned") == {"key": "created"}
    # Owner: ESO's ownerReference (the garbage collection is test_eso_real's)
    assert _sync(chapter, _external(chapter, "owned-here", {"data": data})).ok
    [owner] = _secret(chapter, "owned-here")["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("ExternalSecret", "owned-here", True)


@pytest.mark.parametrize("policy", ["Delete", "Retain", "Merge"])
def test_deletion_policy_when_the_items_are_gone(chapter, policy):
    folder = _folder(f"gone-{policy.lower()}")
    ak.create_secret(chapter.akeyless, f"{folder}/k1", "one")
    name = f"gone-{policy.lower()}"
    body = _external(chapter, name, {"dataFrom": [
        {"find": {"path": folder, "name": {"regexp": ".*"}},
         "rewrite": [{"regexp": {"source": ".*/(.*)", "target": "$1"}}]}], "target": {"deletionPolicy": policy}})
    assert _sync(chapter, body).ok and _data(chapter, name) == {"k1": "one"}
    ak.delete_item(chapter.akeyless, f"{folder}/k1")
    after = _resync(chapter, body)
    assert after.ready.status == "True", after.summary()
    if policy == "Delete":
        assert (after.reason, after.ready.message) == ("SecretDeleted", "secret deleted due to DeletionPolicy=Delete")
        assert _secret(chapter, name) is None
        assert any(e["reason"] == "Deleted" for e in eso_controller.events(chapter.cluster, body))
    elif policy == "Retain":
        assert after.ready.message == "secret retained due to DeletionPolicy=Retain"
        assert _data(chapter, name) == {"k1": "one"}
    else:       # Merge: ESO rewrites the Secret from nothing; its own keys go, the Secret stays
        assert after.reason == "SecretSynced"
        assert _data(chapter, name) == {}


# --- sharing a store ---------------------------------------------------------------------------------

def test_a_cluster_store_serves_only_the_namespaces_its_conditions_admit(chapter):
    store = chapter.secret_store(cluster_scoped=True).body
    store["spec"]["conditions"] = [{"namespaces": [chapter.p.namespace]},
                                   {"namespaceSelector": {"matchLabels": {"eso-features": "admitted"}}}]
    assert store["spec"]["provider"]["akeyless"]["authSecretRef"]["kubernetesAuth"]["serviceAccountRef"][
        "namespace"] == chapter.p.namespace
    assert _sync(chapter, store).ok
    for name, labels in (("features-admitted", {"eso-features": "admitted"}), ("features-outside", {})):
        chapter.cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
    data = {"data": [{"secretKey": "password", "remoteRef": {"key": chapter.p.secret_path}}]}
    verdicts = {ns: _sync(chapter, _external(chapter, "from-cluster-store", json.loads(json.dumps(data)),
                                             store_kind="ClusterSecretStore", store=store["metadata"]["name"],
                                             namespace=ns))
                for ns in (chapter.p.namespace, "features-admitted", "features-outside")}
    assert verdicts[chapter.p.namespace].ok and verdicts["features-admitted"].ok
    # the token is the serviceAccountRef's (its namespace, not the ExternalSecret's): the role matches
    assert _data(chapter, "from-cluster-store", "features-admitted") == {"password": "first-value"}
    outside = verdicts["features-outside"]
    assert (outside.ready.status, outside.reason) == ("False", "SecretSyncedError")
    assert (f'using cluster store "{store["metadata"]["name"]}" is not allowed from namespace "features-outside": '
            "denied by spec.condition") in outside.message, outside.message
    assert _data(chapter, "from-cluster-store", "features-outside") is None


# --- PushSecret ----------------------------------------------------------------------------------------

def _push_secret(chapter, name: str, remote_key: str, *, deletion: str = "Delete") -> dict:
    return {"apiVersion": PS_API, "kind": "PushSecret", "metadata": {"name": name, "namespace": chapter.p.namespace},
            "spec": {"refreshInterval": "1h", "deletionPolicy": deletion,
                     "secretStoreRefs": [{"name": "akeyless-store", "kind": "SecretStore"}],
                     "selector": {"secret": {"name": name}},
                     "data": [{"match": {"secretKey": "token", "remoteRef": {"remoteKey": remote_key}}}]}}


def _ask_for_a_push(chapter, name: str) -> float:
    """A PushSecret re-pushes before its refreshInterval when its object changes: annotate it (after
    leaving the last sync's second: times have one-second resolution). Returns when it asked."""
    time.sleep(1.1)
    since = time.time()
    chapter.cluster.request("PATCH", f"/apis/{PS_API}/namespaces/{chapter.p.namespace}/pushsecrets/{name}",
                            {"metadata": {"annotations": {"retry": str(since)}}},
                            content_type="application/merge-patch+json", doing="asking for a new push")
    return since


def _calls(chapter, since: float, path: str) -> list[tuple[str, int]]:
    return [(e["command"], e["status"]) for e in ak.audit_log(chapter.akeyless, limit=200).entries
            if e["ts"] >= since and e.get("path") == path]


def test_pushsecret_needs_create_then_pushes_updates_and_deletes_what_it_created(chapter):
    """v0.16.2 pushes although its Akeyless provider reports ReadOnly: the PushSecret controller never
    consults Capabilities(). The item's value is the JSON object of the source Secret's keys."""
    folder = f"/demo/push-{uuid.uuid4().hex[:6]}"      # outside the role's rules until the test grants them
    remote = f"{folder}/token"
    chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": "pushed", "namespace": chapter.p.namespace},
                           "stringData": {"token": "push-1"}})
    body = _push_secret(chapter, "pushed", remote)
    since = time.time() - 1
    denied = _sync(chapter, body)
    assert (denied.ready.status, denied.reason) == ("False", "Errored")
    assert denied.ready.message == ("set secret failed: could not write remote ref token to target secretstore "
                                    "akeyless-store: 401 Unauthorized"), denied.ready.message
    assert ("create-secret", 401) in _calls(chapter, since, remote)
    with pytest.raises(AkeylessError):
        ak.get_secret_value(chapter.akeyless, remote)
    ak.set_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*", ["read", "create", "update", "delete"])
    try:
        since = _ask_for_a_push(chapter, "pushed")
        pushed = eso_controller.wait_for(chapter.cluster, body, status_="True", since=since, timeout=WAIT,
                                         progress=None)
        assert (pushed.reason, pushed.ready.message) == ("Synced", "PushSecret synced successfully"), pushed.summary()
        assert pushed.synced == {"SecretStore/akeyless-store": [remote]}
        assert json.loads(ak.get_secret_value(chapter.akeyless, remote, reveal=True).value) == {"token": "push-1"}
        assert MANAGED_TAG in _describe(chapter, remote)["item_tags"]
        # a new value in the Secret: ESO reads, merges and sends update-secret-val
        chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": "pushed", "namespace": chapter.p.namespace},
                               "stringData": {"token": "push-2"}})
        since = _ask_for_a_push(chapter, "pushed")
        assert eso_controller.wait_for(chapter.cluster, body, status_="True", since=since, timeout=WAIT,
                                       progress=None).ok
        assert json.loads(ak.get_secret_value(chapter.akeyless, remote, reveal=True).value) == {"token": "push-2"}
        assert ("update-secret-val", 200) in _calls(chapter, since, remote)
        # deletionPolicy Delete: deleting the PushSecret deletes the item ESO created (it carries the tag)
        since = time.time()
        eso_controller.delete(chapter.cluster, body)
        gone = _wait(lambda: chapter.cluster.get_object(PS_API, "PushSecret", chapter.p.namespace, "pushed") is None)
        assert gone, "the PushSecret's finalizer was never removed"
        assert ("delete-item", 200) in _calls(chapter, since, remote)
        with pytest.raises(AkeylessError):
            ak.get_secret_value(chapter.akeyless, remote)
    finally:
        ak.delete_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*")


def test_pushsecret_delete_leaves_an_item_it_did_not_create(chapter):
    """ESO deletes only items tagged k8s-external-secrets: one the admin created stays."""
    folder = f"/demo/push-kept-{uuid.uuid4().hex[:6]}"
    remote = f"{folder}/token"
    ak.create_secret(chapter.akeyless, remote, json.dumps({"token": "by-admin"}))
    ak.set_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*", ["read", "create", "update", "delete"])
    try:
        chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": "pushed-over", "namespace": chapter.p.namespace},
                               "stringData": {"token": "from-k8s"}})
        body = _push_secret(chapter, "pushed-over", remote)
        assert _sync(chapter, body).ok
        assert json.loads(ak.get_secret_value(chapter.akeyless, remote, reveal=True).value) == {"token": "from-k8s"}
        since = time.time()
        eso_controller.delete(chapter.cluster, body)
        assert _wait(lambda: chapter.cluster.get_object(PS_API, "PushSecret", chapter.p.namespace, "pushed-over")
                     is None)
        assert [c for c, _ in _calls(chapter, since, remote)].count("delete-item") == 0
        assert json.loads(ak.get_secret_value(chapter.akeyless, remote, reveal=True).value) == {"token": "from-k8s"}
    finally:
        ak.delete_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*")


def _describe(chapter, name: str) -> dict:
    from helpers.eso import post_command
    token = chapter.akeyless.current_token()
    status, out = post_command(chapter.gateway_url, "describe-item", {"name": name, "token": token},
                               chapter.gateway_ca_pem())
    assert status == 200, out
    return out


def _wait(predicate, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return bool(predicate())


# --- watching ESO work: metrics ----------------------------------------------------------------------

def test_metrics_count_a_good_and_a_failing_sync(chapter):
    before = eso_controller.metrics(chapter.session.lab)
    good = _sync(chapter, _external(chapter, "counted-good", {"data": [
        {"secretKey": "password", "remoteRef": {"key": chapter.p.secret_path}}]}))
    bad = _sync(chapter, _external(chapter, "counted-bad", {"data": [
        {"secretKey": "password", "remoteRef": {"key": "/demo/app/no-such-item"}}]}))
    assert good.ok and not bad.ok
    after = eso_controller.metrics(chapter.session.lab)
    calls, errors = after.of(chapter.p.namespace, "counted-good")
    assert calls >= 1 and errors == 0
    calls, errors = after.of(chapter.p.namespace, "counted-bad")
    # ESO counts the call when a reconcile ends and the error where it fails: read between the two, the
    # error can be one ahead; a reconcile that found nothing to do counts a call and no error
    assert calls >= 1 and errors >= 1
    assert after.kind("externalsecret")["errors"] > before.kind("externalsecret")["errors"]
    assert after.kind("externalsecret")["total"] >= before.kind("externalsecret")["total"] + 2
    assert after.provider_calls.get(("DescribeItem", "success"), 0) > before.provider_calls.get(
        ("DescribeItem", "success"), 0)
    assert after.url == chapter.session.lab.components["external-secrets"]
    assert "ExternalSecret reconciles" in after.summary()


# --- refresh -----------------------------------------------------------------------------------------

def test_each_refresh_is_recorded_in_status_and_a_change_in_an_updated_event(chapter):
    """refreshInterval re-reads Akeyless on its own (test_eso_real times the rotation); every sync stamps
    status.refreshTime, and a sync that changed the Secret adds an Updated event."""
    path = _folder("refresh") + "/value"
    ak.create_secret(chapter.akeyless, path, "before")
    body = _external(chapter, "refreshed", {"refreshInterval": "1s",
                                            "data": [{"secretKey": "v", "remoteRef": {"key": path}}]})
    first = _sync(chapter, body)
    assert first.ok and first.refresh_time
    ak.update_secret(chapter.akeyless, path, "after")
    assert _wait(lambda: (_data(chapter, "refreshed") or {}).get("v") == "after"), "no refresh followed the change"
    later = eso_controller.status(chapter.cluster, body)
    assert later.refresh_time > first.refresh_time
    assert any(e["reason"] == "Updated" for e in eso_controller.events(chapter.cluster, body)), later.events
    assert eso_controller.metrics(chapter.session.lab).of(chapter.p.namespace, "refreshed")[0] >= 2


def test_pushsecret_without_update_creates_once_then_is_refused(chapter):
    """`create` alone makes the first push; a changed value needs `update` (update-secret-val is refused)."""
    folder = f"/demo/push-once-{uuid.uuid4().hex[:6]}"
    remote = f"{folder}/token"
    ak.set_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*", ["read", "create"])
    try:
        chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": "pushed-once", "namespace": chapter.p.namespace},
                               "stringData": {"token": "first"}})
        body = _push_secret(chapter, "pushed-once", remote, deletion="None")
        assert _sync(chapter, body).ok
        chapter.cluster.apply({"apiVersion": "v1", "kind": "Secret",
                               "metadata": {"name": "pushed-once", "namespace": chapter.p.namespace},
                               "stringData": {"token": "second"}})
        since = _ask_for_a_push(chapter, "pushed-once")
        refused = eso_controller.wait_for(chapter.cluster, body, status_="False", since=since, timeout=WAIT,
                                          progress=None)
        assert refused.reason == "Errored" and refused.ready.message.endswith(": 401 Unauthorized"), refused.summary()
        assert ("update-secret-val", 401) in _calls(chapter, since, remote)
        assert json.loads(ak.get_secret_value(chapter.akeyless, remote, reveal=True).value) == {"token": "first"}
    finally:
        ak.delete_role_rule(chapter.akeyless, chapter.p.role, f"{folder}/*")
