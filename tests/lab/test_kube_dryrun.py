"""dryRun=All through the official client: every verb answers with what it would store and stores nothing
(run with WORKSHOP_LAB_KUBE=apiserver for the same checks against the real kube-apiserver)."""
from __future__ import annotations

import json

import pytest
from kubernetes.client import (RbacAuthorizationV1Api, V1ConfigMap, V1DeleteOptions,
                               V1ObjectMeta, V1RoleBinding, V1RoleRef, RbacV1Subject, V1ServiceAccount)
from kubernetes.client.exceptions import ApiException

DRY = "All"


@pytest.fixture(scope="module")
def ns(core, ns):
    """The shared namespace, with a ServiceAccount `app` in it."""
    core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="app",
                                                                                         labels={"a": "1"})))
    return ns


def _snapshot(core, ns) -> dict:
    return core.read_namespaced_service_account("app", ns).to_dict()


def test_create_returns_the_object_and_stores_nothing(core, ns):
    made = core.create_namespaced_config_map(ns, V1ConfigMap(metadata=V1ObjectMeta(name="dry"), data={"k": "v"}),
                                             dry_run=DRY)
    assert made.metadata.uid and made.metadata.creation_timestamp and made.data == {"k": "v"}
    assert not made.metadata.resource_version
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("dry", ns)
    assert caught.value.status == 404


def test_create_of_an_existing_name_is_still_already_exists(core, ns):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="app")), dry_run=DRY)
    assert caught.value.status == 409


def test_update_and_patches_change_nothing(core, ns):
    before = _snapshot(core, ns)
    current = core.read_namespaced_service_account("app", ns)
    current.metadata.labels = {"b": "2"}
    replaced = core.replace_namespaced_service_account("app", ns, current, dry_run=DRY)
    assert replaced.metadata.labels == {"b": "2"}
    assert replaced.metadata.resource_version == before["metadata"]["resource_version"]
    patched = core.patch_namespaced_service_account("app", ns, {"metadata": {"labels": {"c": "3"}}}, dry_run=DRY)
    assert patched.metadata.labels == {"a": "1", "c": "3"}
    assert _snapshot(core, ns) == before


def test_deletes_delete_nothing(core, ns, kube_client):
    before = _snapshot(core, ns)
    gone = core.delete_namespaced_service_account("app", ns, body=V1DeleteOptions(dry_run=[DRY]),
                                                  _preload_content=False)
    assert json.loads(gone.data)["metadata"]["name"] == "app"     # ServiceAccount deletes answer the object
    core.delete_collection_namespaced_service_account(ns, dry_run=DRY)
    rbac = RbacAuthorizationV1Api(kube_client)
    rbac.create_namespaced_role_binding(ns, V1RoleBinding(
        metadata=V1ObjectMeta(name="view"), role_ref=V1RoleRef(api_group="rbac.authorization.k8s.io",
                                                               kind="ClusterRole", name="view"),
        subjects=[RbacV1Subject(kind="ServiceAccount", name="app", namespace=ns)]))
    rbac.delete_namespaced_role_binding("view", ns, dry_run=DRY)
    assert rbac.read_namespaced_role_binding("view", ns).role_ref.name == "view"
    terminating = json.loads(core.delete_namespace(ns, dry_run=DRY, _preload_content=False).data)
    assert terminating["status"]["phase"] == "Terminating" and terminating["metadata"]["deletionTimestamp"]
    assert core.read_namespace(ns).status.phase == "Active"
    assert _snapshot(core, ns) == before


def test_an_unknown_dry_run_value_is_invalid_and_stores_nothing(core, ns):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, V1ConfigMap(metadata=V1ObjectMeta(name="maybe")), dry_run="Yes")
    assert caught.value.status == 422
    assert json.loads(caught.value.body)["message"] == \
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Yes"]: supported values: "All"'
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("maybe", ns)
