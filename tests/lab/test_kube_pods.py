"""Pods on the lab: stored and Pending, admitted with their ServiceAccount's token volume (emulator), and the
tokens bound to them, which stop working once the pod is gone (both servers, via the official client)."""
from __future__ import annotations

import base64
import json

import pytest
from kubernetes.client import (AuthenticationV1Api, AuthenticationV1TokenRequest, V1BoundObjectReference,
                               V1Container, V1ObjectMeta, V1Pod, V1PodSpec, V1ServiceAccount,
                               V1TokenRequestSpec, V1TokenReview, V1TokenReviewSpec)
from kubernetes.client.exceptions import ApiException


@pytest.fixture(scope="module")
def ns(core, ns):
    """The shared namespace, with a ServiceAccount `app` in it."""
    core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="app")))
    return ns


def _pod(name: str, automount: bool | None = None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name), spec=V1PodSpec(
        service_account_name="app", automount_service_account_token=automount,
        containers=[V1Container(name="c", image="busybox:1.36")]))


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_pod_is_stored_pending_without_a_node(core, ns):
    pod = core.create_namespaced_pod(ns, _pod("p1"))
    assert pod.status.phase == "Pending" and pod.status.qos_class == "BestEffort" and not pod.spec.node_name
    assert pod.spec.containers[0].image_pull_policy == "IfNotPresent" and pod.spec.restart_policy == "Always"


def test_service_account_admission_mounts_the_token(core, ns, lab):
    if lab.kube_mode != "emulator":
        pytest.skip("the real stack runs with the ServiceAccount admission plugin disabled")
    pod = core.create_namespaced_pod(ns, _pod("p2"))
    [volume] = pod.spec.volumes
    assert volume.name.startswith("kube-api-access-")
    assert volume.projected.sources[0].service_account_token.expiration_seconds == 3607
    [mount] = pod.spec.containers[0].volume_mounts
    assert (mount.mount_path, mount.name, mount.read_only) == ("/var/run/secrets/kubernetes.io/serviceaccount",
                                                               volume.name, True)
    assert not core.create_namespaced_pod(ns, _pod("p3", automount=False)).spec.volumes
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(ns, V1Pod(metadata=V1ObjectMeta(name="p4"), spec=V1PodSpec(
            service_account_name="ghost", containers=[V1Container(name="c", image="busybox")])))
    assert caught.value.status == 403 and 'serviceaccount \\"ghost\\" not found' in caught.value.body


def test_a_pod_bound_token_dies_with_its_pod(core, ns, kube_client):
    pod = core.create_namespaced_pod(ns, _pod("bound"))

    def mint() -> str:
        return core.create_namespaced_service_account_token("app", ns, AuthenticationV1TokenRequest(
            spec=V1TokenRequestSpec(audiences=[], bound_object_ref=V1BoundObjectReference(
                kind="Pod", api_version="v1", name="bound")))).status.token

    def review(token: str):
        return AuthenticationV1Api(kube_client).create_token_review(
            V1TokenReview(spec=V1TokenReviewSpec(token=token))).status

    first, second = mint(), mint()
    assert _claims(first)["kubernetes.io"]["pod"] == {"name": "bound", "uid": pod.metadata.uid}
    verdict = review(first)
    assert verdict.authenticated and verdict.user.extra["authentication.kubernetes.io/pod-name"] == ["bound"]
    core.delete_namespaced_pod("bound", ns)
    # `second` was never authenticated, so no success cache hides the deletion
    assert review(second).error == "[invalid bearer token, service account token has been invalidated]"
