"""Seeded fuzzing of the Kubernetes emulator (tests/lab/fuzzing.py): request bodies built with the official
kubernetes client's models, mutated and sent with hostile encodings and headers, at least MIN_REQUESTS per
run. Every answer is < 500 with no traceback; a refused request writes nothing; afterwards the official
client still works and the lab restarts from its journal with every stored object readable."""
from __future__ import annotations

import base64
import os
import random
import urllib.parse

import kubernetes
import pytest
from kubernetes.client import (AuthenticationV1TokenRequest, CoreV1Api, RbacAuthorizationV1Api, RbacV1Subject,
                               V1BoundObjectReference, V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap,
                               V1DeleteOptions, V1LocalSubjectAccessReview, V1Namespace, V1NonResourceAttributes,
                               V1ObjectMeta, V1PolicyRule, V1ResourceAttributes, V1Role, V1RoleBinding, V1RoleRef,
                               V1Secret, V1SelfSubjectAccessReview, V1SelfSubjectAccessReviewSpec,
                               V1SelfSubjectReview, V1SelfSubjectRulesReview, V1SelfSubjectRulesReviewSpec,
                               V1ServiceAccount, V1SubjectAccessReview, V1SubjectAccessReviewSpec, V1TokenRequestSpec,
                               V1TokenReview, V1TokenReviewSpec)

from helpers import lab as lab_runtime
from helpers.config import Settings
from tests.lab.fuzzing import SPECIAL_TEXT, Wire, batches, encode_headers, encoded, header_value, mutated

pytestmark = pytest.mark.skipif(os.environ.get("WORKSHOP_LAB_KUBE", "emulator") != "emulator",
                                reason="fuzzes the emulator; the real kube-apiserver is the contract, not the target")

NS = "fuzz"
BATCH = 25
EXAMPLES = 200
MIN_REQUESTS = 5000
RBAC = "rbac.authorization.k8s.io"
sent = {"requests": 0, "refused": 0, "5xx": 0}


class Target:
    def __init__(self, info):
        self.info = info
        self.wire = Wire(info.kube_url, str(info.ca_cert))
        self.client = kubernetes.config.new_client_from_config(config_file=str(info.kubeconfig))
        self.journal = info.dir / "state" / "kube.journal"


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    settings_ = Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("fuzz-kube") / "lab"),
                              kube="emulator")
    info = lab_runtime.up(settings_)
    target = Target(info)
    core = CoreV1Api(target.client)
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=NS)))
    core.create_namespaced_service_account(NS, V1ServiceAccount(metadata=V1ObjectMeta(name="fz-sa")))
    core.create_namespaced_secret(NS, V1Secret(metadata=V1ObjectMeta(name="fz-secret"), string_data={"k": "v"}))
    core.create_namespaced_config_map(NS, V1ConfigMap(metadata=V1ObjectMeta(name="fz-cm"), data={"a": "b"}))
    token = core.create_namespaced_service_account_token(
        "fz-sa", NS, AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[]))).status.token
    target.sa_token = token
    target.bases = _bases(target.client, token)
    target.settings = settings_
    yield target
    lab_runtime.down(settings_)


def _bases(client, token: str) -> list[tuple[str, str, object, str]]:
    """(method, path, body, content type) of real requests, bodies from the official client's models."""
    s = client.sanitize_for_serialization
    core, rbac = f"/api/v1/namespaces/{NS}", f"/apis/{RBAC}/v1"
    authz, authn = "/apis/authorization.k8s.io/v1", "/apis/authentication.k8s.io/v1"
    meta = V1ObjectMeta(name="fz-new", labels={"app": "fuzz"}, annotations={"note": "x"})
    rule = V1PolicyRule(api_groups=[""], resources=["secrets"], verbs=["get", "list"], resource_names=["fz-secret"])
    ref = V1RoleRef(api_group=RBAC, kind="ClusterRole", name="view")
    subject = RbacV1Subject(kind="ServiceAccount", name="fz-sa", namespace=NS)
    attrs = V1ResourceAttributes(namespace=NS, verb="get", resource="secrets", name="fz-secret")
    json_type, merge, apply = "application/json", "application/merge-patch+json", "application/apply-patch+yaml"
    return [
        ("POST", "/api/v1/namespaces", s(V1Namespace(api_version="v1", kind="Namespace", metadata=meta)), json_type),
        ("POST", f"{core}/serviceaccounts", s(V1ServiceAccount(api_version="v1", kind="ServiceAccount", metadata=meta,
                                                               automount_service_account_token=False)), json_type),
        ("POST", f"{core}/secrets", s(V1Secret(api_version="v1", kind="Secret", metadata=meta, type="Opaque",
                                               string_data={"password": "p"},
                                               data={"user": base64.b64encode(b"u").decode()})), json_type),
        ("PUT", f"{core}/secrets/fz-secret", s(V1Secret(api_version="v1", kind="Secret",
                                                       metadata=V1ObjectMeta(name="fz-secret"),
                                                       string_data={"k": "w"})), json_type),
        ("POST", f"{core}/configmaps", s(V1ConfigMap(api_version="v1", kind="ConfigMap", metadata=meta,
                                                     data={"a": "b"}, binary_data={"bin": "AAE="})), json_type),
        ("PATCH", f"{core}/configmaps/fz-cm", {"data": {"x": "y"}, "metadata": {"labels": {"l": "v"}}}, merge),
        ("PATCH", f"{core}/configmaps/fz-cm", {"data": {"x": None}}, "application/strategic-merge-patch+json"),
        ("PATCH", f"{core}/configmaps/fz-cm", [{"op": "add", "path": "/data/z", "value": "1"},
                                               {"op": "replace", "path": "/metadata/labels", "value": {}},
                                               {"op": "test", "path": "/data/a", "value": "b"},
                                               {"op": "move", "from": "/data/z", "path": "/data/w"}],
         "application/json-patch+json"),
        ("PATCH", f"{core}/configmaps/fz-cm", {"apiVersion": "v1", "kind": "ConfigMap"}, apply),
        # server-side apply with a field manager: merged, pruned and checked for conflicts (force or not)
        ("PATCH", f"{core}/configmaps/fz-cm?fieldManager=fuzz", s(V1ConfigMap(
            api_version="v1", kind="ConfigMap", metadata=V1ObjectMeta(name="fz-cm", labels={"l": "v"},
                                                                      finalizers=["fuzz.io/x"]),
            data={"a": "b", "c": "d"})), apply),
        ("PATCH", f"{core}/configmaps/fz-cm?fieldManager=other&force=true", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fz-cm"}, "data": {"a": "z"}}, apply),
        ("PATCH", f"{core}/serviceaccounts/fz-sa?fieldManager=fuzz&dryRun=All", s(V1ServiceAccount(
            api_version="v1", kind="ServiceAccount", metadata=V1ObjectMeta(name="fz-sa"),
            secrets=[{"name": "one"}], image_pull_secrets=[{"name": "pull"}])), apply),
        ("PATCH", f"{rbac}/namespaces/{NS}/roles/fz-role?fieldManager=fuzz", s(V1Role(
            api_version=f"{RBAC}/v1", kind="Role", metadata=V1ObjectMeta(name="fz-role"), rules=[rule])), apply),
        ("PATCH", f"{core}/services/fz-svc?fieldManager=fuzz", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "fz-svc"},
            "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "name": "http"}, {"port": 443}]}}, apply),
        ("POST", f"{core}/serviceaccounts/fz-sa/token", s(AuthenticationV1TokenRequest(
            api_version="authentication.k8s.io/v1", kind="TokenRequest", spec=V1TokenRequestSpec(
                audiences=["akeyless"], expiration_seconds=600, bound_object_ref=V1BoundObjectReference(
                    kind="Secret", api_version="v1", name="fz-secret")))), json_type),
        ("POST", f"{authn}/tokenreviews", s(V1TokenReview(api_version="authentication.k8s.io/v1", kind="TokenReview",
                                                          spec=V1TokenReviewSpec(token=token, audiences=["x"]))),
         json_type),
        ("POST", f"{authn}/selfsubjectreviews", s(V1SelfSubjectReview(api_version="authentication.k8s.io/v1",
                                                                      kind="SelfSubjectReview")), json_type),
        ("POST", f"{authz}/selfsubjectaccessreviews", s(V1SelfSubjectAccessReview(
            spec=V1SelfSubjectAccessReviewSpec(resource_attributes=attrs))), json_type),
        ("POST", f"{authz}/subjectaccessreviews", s(V1SubjectAccessReview(spec=V1SubjectAccessReviewSpec(
            user="system:serviceaccount:fuzz:fz-sa", groups=["g"], extra={"k": ["v"]},
            non_resource_attributes=V1NonResourceAttributes(path="/healthz", verb="get")))), json_type),
        ("POST", f"{authz}/namespaces/{NS}/localsubjectaccessreviews", s(V1LocalSubjectAccessReview(
            metadata=V1ObjectMeta(namespace=NS), spec=V1SubjectAccessReviewSpec(user="u", resource_attributes=attrs))),
         json_type),
        ("POST", f"{authz}/selfsubjectrulesreviews", s(V1SelfSubjectRulesReview(
            spec=V1SelfSubjectRulesReviewSpec(namespace=NS))), json_type),
        ("POST", f"{rbac}/namespaces/{NS}/roles", s(V1Role(api_version=f"{RBAC}/v1", kind="Role", metadata=meta,
                                                           rules=[rule])), json_type),
        ("POST", f"{rbac}/namespaces/{NS}/rolebindings", s(V1RoleBinding(
            api_version=f"{RBAC}/v1", kind="RoleBinding", metadata=meta, role_ref=ref, subjects=[subject])), json_type),
        ("POST", f"{rbac}/clusterroles", s(V1ClusterRole(api_version=f"{RBAC}/v1", kind="ClusterRole", metadata=meta,
                                                         rules=[rule, V1PolicyRule(non_resource_urls=["/x"],
                                                                                   verbs=["get"])])), json_type),
        ("POST", f"{rbac}/clusterrolebindings", s(V1ClusterRoleBinding(
            api_version=f"{RBAC}/v1", kind="ClusterRoleBinding", metadata=meta, role_ref=ref, subjects=[subject])),
         json_type),
        ("DELETE", f"{core}/configmaps/fz-new", s(V1DeleteOptions(propagation_policy="Foreground")), json_type),
        ("GET", f"{core}/secrets?labelSelector=app%3Dfuzz", None, json_type),
        ("GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dfz-cm", None, json_type),
    ]


def kube_request(r: random.Random, target: Target):
    method, path, body, content_type = r.choice(target.bases)
    if r.random() < 0.1:                    # a hostile URL segment or method
        parts = path.split("?")[0].split("/")
        index = r.randint(1, len(parts) - 1)
        parts[index] = urllib.parse.quote(r.choice(SPECIAL_TEXT).encode("utf-8", "surrogatepass"), safe="") or "x"
        path = "/".join(parts)
        method = r.choice([method, "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "GET"])
    headers = {"Accept": r.choice(["application/json", "*/*", "application/json;as=Table;g=meta.k8s.io;v=v1",
                                   "application/yaml", "text/html"]),
               "Authorization": header_value(r, [f"Bearer {target.info.admin_token}", f"Bearer {target.sa_token}"])}
    if r.random() < 0.07:
        headers["Impersonate-User"] = r.choice(["system:serviceaccount:fuzz:fz-sa", "alice", "",
                                                "system:anonymous"] + SPECIAL_TEXT[:8])
        if r.random() < 0.5:
            headers["Impersonate-Extra-" + r.choice(["scopes", "a%2Fb", "X"])] = "v"
    data = b""
    if body is not None:
        data, override, extra = encoded(r, mutated(r, body))
        headers.update(extra)
        content_type = override or content_type
    if r.random() < 0.05:
        content_type = r.choice(["application/vnd.kubernetes.protobuf", "text/plain", "",
                                 "application/json; charset=latin-1", "multipart/form-data"])
        if content_type.startswith("application/vnd"):
            data = b"k8s\x00" + r.randbytes(r.randint(0, 80))
    headers["Content-Type"] = content_type
    return method, path, data, encode_headers(headers)


def _check(target: Target, request, before: int) -> None:
    method, path, data, headers = request
    code, text = target.wire.send(method, path, data, headers)
    sent["requests"] += 1
    if code >= 500:
        sent["5xx"] += 1
    assert code < 500, (method, path, data[:300], headers, text[:500])
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    if code >= 400:
        sent["refused"] += 1
        assert target.journal.stat().st_size == before, ("a refused request wrote to the journal", method, path,
                                                        code, text[:300])


@batches(20261201, EXAMPLES)
def _fuzz(target: Target, batch: int) -> None:
    r = random.Random(batch)
    for _ in range(BATCH):
        _check(target, kube_request(r, target), target.journal.stat().st_size)


def test_fuzz_kube(target):
    _fuzz(target)
    assert sent["requests"] >= MIN_REQUESTS and sent["5xx"] == 0, sent
    print(f"\nkube fuzz: {sent}")


def test_still_correct_after_fuzzing_and_a_restart(target):
    core = CoreV1Api(target.client)
    for listed in (core.list_namespace(), core.list_secret_for_all_namespaces(),
                   core.list_config_map_for_all_namespaces(), core.list_service_account_for_all_namespaces(),
                   RbacAuthorizationV1Api(target.client).list_cluster_role()):
        assert listed.items
    name = "after-fuzz"
    core.create_namespaced_secret(NS, V1Secret(metadata=V1ObjectMeta(name=name), string_data={"k": "kept"}))
    lab_runtime.down(target.settings)
    info = lab_runtime.up(target.settings)
    client = kubernetes.config.new_client_from_config(config_file=str(info.kubeconfig))
    core = CoreV1Api(client)
    assert base64.b64decode(core.read_namespaced_secret(name, NS).data["k"]) == b"kept"
    for namespace in core.list_namespace().items:
        for kind in ("secret", "config_map", "service_account"):
            getattr(core, f"list_namespaced_{kind}")(namespace.metadata.name)
    token = core.create_namespaced_service_account_token(
        "fz-sa", NS, AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[]))).status.token
    review = kubernetes.client.AuthenticationV1Api(client).create_token_review(
        V1TokenReview(spec=V1TokenReviewSpec(token=token)))
    assert review.status.authenticated
