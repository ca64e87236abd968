"""Lab-only behaviour of the emulator, each in a lab directory of its own so the shared session lab is not
disturbed: token expiry under the lab clock, and state surviving `lab down`/`lab up` and SIGKILL."""
from __future__ import annotations

import os
import signal

import kubernetes
import psutil
import pytest
from kubernetes.client import (AuthenticationV1Api, AuthenticationV1TokenRequest, CoreV1Api, V1Namespace,
                               V1ObjectMeta, V1Secret, V1ServiceAccount, V1TokenRequestSpec, V1TokenReview,
                               V1TokenReviewSpec)
from kubernetes.client.exceptions import ApiException

from helpers import lab as lab_runtime
from helpers.config import Settings

pytestmark = pytest.mark.skipif(os.environ.get("WORKSHOP_LAB_KUBE", "emulator") != "emulator",
                                reason="lab-only: the real kube-apiserver's clock and storage are not the lab's")


@pytest.fixture
def own_lab(tmp_path):
    settings = Settings.load(target="lab", lab_dir=str(tmp_path / "lab"), kube="emulator")
    yield settings
    lab_runtime.down(settings)


def client_for(info) -> kubernetes.client.ApiClient:
    return kubernetes.config.new_client_from_config(config_file=str(info.kubeconfig))


def mint(core: CoreV1Api, ns: str, sa: str, seconds: int) -> str:
    request = AuthenticationV1TokenRequest(spec=V1TokenRequestSpec(audiences=[], expiration_seconds=seconds))
    return core.create_namespaced_service_account_token(sa, ns, request).status.token


def review(client, token: str):
    return AuthenticationV1Api(client).create_token_review(V1TokenReview(spec=V1TokenReviewSpec(token=token))).status


def test_tokens_expire_when_the_lab_clock_moves(own_lab):
    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        core = CoreV1Api(client)
        core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name="clock")))
        core.create_namespaced_service_account("clock", V1ServiceAccount(metadata=V1ObjectMeta(name="app")))
        short = mint(core, "clock", "app", 600)
        long = mint(core, "clock", "app", 48 * 3600)
        assert review(client, short).authenticated is True

        lab_runtime.advance_clock(600 + 30, own_lab)      # inside the API server's 60 s leeway
        assert review(client, short).authenticated is True

        lab_runtime.advance_clock(60, own_lab)
        status = review(client, short)
        assert not status.authenticated
        assert status.error == "[invalid bearer token, service account token has expired]"
        assert review(client, long).authenticated is True

        cfg = kubernetes.client.Configuration()
        cfg.host, cfg.ssl_ca_cert = info.kube_url, str(info.ca_cert)
        cfg.api_key, cfg.api_key_prefix = {"authorization": short}, {"authorization": "Bearer"}
        with kubernetes.client.ApiClient(cfg) as expired:
            with pytest.raises(ApiException) as err:
                CoreV1Api(expired).list_namespaced_service_account("clock")
        assert err.value.status == 401


def _seed(core: CoreV1Api, ns: str) -> dict:
    core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=ns)))
    sa = core.create_namespaced_service_account(ns, V1ServiceAccount(metadata=V1ObjectMeta(name="app")))
    secret = core.create_namespaced_secret(ns, V1Secret(metadata=V1ObjectMeta(name="s"), string_data={"k": "v"}))
    return {"sa": sa.metadata.uid, "secret": secret.metadata.uid, "token": mint(core, ns, "app", 3600)}


def _check(core: CoreV1Api, client, ns: str, seeded: dict) -> None:
    assert core.read_namespaced_service_account("app", ns).metadata.uid == seeded["sa"]
    secret = core.read_namespaced_secret("s", ns)
    assert secret.metadata.uid == seeded["secret"] and secret.data == {"k": "dg=="}
    assert review(client, seeded["token"]).authenticated is True


def test_state_survives_down_up_and_sigkill(own_lab):
    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        before = _seed(CoreV1Api(client), "keep")
        last_rv = int(CoreV1Api(client).list_namespace().metadata.resource_version)
    lab_runtime.down(own_lab)

    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        core = CoreV1Api(client)
        _check(core, client, "keep", before)
        assert int(core.list_namespace().metadata.resource_version) >= last_rv
        killed = _seed(core, "killed")
    psutil.Process(info.pid).send_signal(signal.SIGKILL)
    psutil.Process(info.pid).wait(10)

    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        core = CoreV1Api(client)
        _check(core, client, "keep", before)
        _check(core, client, "killed", killed)
        # a fresh write after the restart gets a newer resourceVersion than anything replayed
        sa = core.create_namespaced_service_account("keep", V1ServiceAccount(metadata=V1ObjectMeta(name="later")))
        assert int(sa.metadata.resource_version) > last_rv


def test_deleting_a_namespace_deletes_its_objects(own_lab):
    """Lab-only: without kube-controller-manager a real API server leaves the namespace Terminating."""
    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        core = CoreV1Api(client)
        _seed(core, "doomed")
        core.delete_namespace("doomed")
        with pytest.raises(ApiException) as err:
            core.read_namespace("doomed")
        assert err.value.status == 404
        _seed(core, "doomed")          # recreated empty: nothing left over from the first life
        assert [s.metadata.name for s in core.list_namespaced_secret("doomed").items] == ["s"]


def test_a_successful_authentication_is_cached_for_ten_lab_seconds(own_lab):
    """kube-apiserver's token success cache: revoking a ServiceAccount takes effect within 10 s, not at once."""
    info = lab_runtime.up(own_lab)
    with client_for(info) as client:
        core = CoreV1Api(client)
        core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name="cache")))
        for name in ("app", "never-reviewed"):
            core.create_namespaced_service_account("cache", V1ServiceAccount(metadata=V1ObjectMeta(name=name)))
        token = mint(core, "cache", "app", 3600)
        unreviewed = mint(core, "cache", "never-reviewed", 3600)
        first = review(client, token)
        assert first.authenticated is True
        core.delete_namespaced_service_account("app", "cache")
        core.delete_namespaced_service_account("never-reviewed", "cache")

        cached = review(client, token)
        assert cached.authenticated is True and cached.user.uid == first.user.uid
        # the cache is per audience set, and failures are never cached
        other = AuthenticationV1Api(client).create_token_review(V1TokenReview(spec=V1TokenReviewSpec(
            token=token, audiences=["https://kubernetes.default.svc.cluster.local", "other"]))).status
        assert other.error == '[invalid bearer token, serviceaccounts "app" not found]'
        assert review(client, unreviewed).error == '[invalid bearer token, serviceaccounts "never-reviewed" not found]'

        cfg = kubernetes.client.Configuration()
        cfg.host, cfg.ssl_ca_cert = info.kube_url, str(info.ca_cert)
        cfg.api_key, cfg.api_key_prefix = {"authorization": token}, {"authorization": "Bearer"}
        with kubernetes.client.ApiClient(cfg) as as_app:
            with pytest.raises(ApiException) as err:     # still the app (403 for lack of RBAC), not a 401
                CoreV1Api(as_app).list_namespaced_secret("cache")
            assert err.value.status == 403

            lab_runtime.advance_clock(10, own_lab)
            assert review(client, token).error == '[invalid bearer token, serviceaccounts "app" not found]'
            with pytest.raises(ApiException) as err:
                CoreV1Api(as_app).list_namespaced_secret("cache")
            assert err.value.status == 401
