"""The lab's real-Kubernetes mode: upstream kube-apiserver + etcd run with the lab's own key material.

These check the wiring that the shared contract suite (tests/lab, run with WORKSHOP_LAB_KUBE=apiserver)
takes for granted: the kubeconfig's two admin identities, the pinned version, the lab's service-account
issuer and key, state and port surviving a restart, child processes on loopback that stop with the lab.
Skipped when tools/k8s/build.sh has not been run; the missing-binary error is checked always.
"""
import base64
import json

import psutil
import pytest
from kubernetes import client, config

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.errors import LabStartFailed
from helpers.lab import apiserver
from .passes import in_the_real_stack_pass

pytestmark = in_the_real_stack_pass

_not_built = pytest.mark.skipif(not apiserver.available(),
                                reason=f"real kube-apiserver not built in {apiserver.bin_dir()}: "
                                       "run `bash tools/k8s/build.sh`")


def needs_binaries(test):
    return pytest.mark.apiserver(_not_built(test))


def test_missing_binaries_name_the_path_and_the_build_command(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_K8S_BIN_DIR", str(tmp_path))
    with pytest.raises(LabStartFailed) as caught:
        apiserver.binaries()
    assert str(tmp_path / "kube-apiserver") in caught.value.message
    assert "tools/k8s/build.sh" in caught.value.hint


@pytest.fixture(scope="module")
def real_lab(tmp_path_factory):
    settings = Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("real") / "lab"), kube="apiserver")
    yield settings, lab_runtime.up(settings)
    lab_runtime.down(settings)


def _api(info, context: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(info.kubeconfig), context=context)


def _children(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children()
            if p.name() in ("etcd", "kube-apiserver", "kube-controller-manager", "eso-controller")]


@needs_binaries
def test_both_kubeconfig_identities_are_cluster_admins(real_lab):
    _, info = real_lab
    for context in ("akeyless-lab", "akeyless-lab-cert"):      # bearer token, then client certificate
        with _api(info, context) as api:
            review = client.AuthorizationV1Api(api).create_self_subject_access_review(
                client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=client.V1ResourceAttributes(verb="*", resource="*", group="*"))))
            assert review.status.allowed, context
            who = client.AuthenticationV1Api(api).create_self_subject_review(client.V1SelfSubjectReview())
            assert who.status.user_info.username == "lab-admin"
            assert "system:masters" in who.status.user_info.groups


@needs_binaries
def test_runs_the_pinned_version(real_lab):
    _, info = real_lab
    with _api(info, "akeyless-lab") as api:
        assert client.VersionApi(api).get_code().git_version == apiserver.k8s_version()


@needs_binaries
def test_tokens_carry_the_lab_issuer_and_key(real_lab):
    settings, info = real_lab
    with _api(info, "akeyless-lab") as api:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="wiring")))
        core.create_namespaced_service_account("wiring", client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name="probe")))
        token = core.create_namespaced_service_account_token("probe", "wiring", client.AuthenticationV1TokenRequest(
            spec=client.V1TokenRequestSpec(audiences=["probe-audience"], expiration_seconds=600))).status.token
    header, payload = (json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                       for part in token.split(".")[:2])
    from helpers.lab.pki import LabPKI
    assert header == {"alg": "RS256", "kid": LabPKI(settings.lab_dir).sa_key_id()}
    assert payload["iss"] == "https://kubernetes.default.svc.cluster.local"
    assert payload["aud"] == ["probe-audience"]
    assert payload["exp"] - payload["iat"] == 600


@needs_binaries
def test_children_listen_on_loopback_only(real_lab):
    _, info = real_lab
    children = _children(info.pid)
    expected = ["etcd", "kube-apiserver"] + (["kube-controller-manager"] if apiserver.controller_manager() else []) \
        + (["eso-controller"] if apiserver.eso.available() else [])
    assert sorted(p.name() for p in children) == sorted(expected)
    for proc in children:
        addresses = {c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN}
        assert addresses == {"127.0.0.1"}, proc.name()


@needs_binaries
def test_restart_keeps_state_and_port_and_stops_children(real_lab):
    settings, info = real_lab
    with _api(info, "akeyless-lab") as api:
        client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="survivor")))
    children = _children(info.pid)
    lab_runtime.down(settings)
    assert not any(proc.is_running() for proc in children)
    again = lab_runtime.up(settings)
    assert again.kube_url == info.kube_url
    with _api(again, "akeyless-lab") as api:
        assert client.CoreV1Api(api).read_namespace("survivor").status.phase == "Active"
