"""Clients of the session's lab, shared by the emulator tests: the official SDKs, nothing else."""
import uuid

import akeyless
import kubernetes
import pytest


def akeyless_sdk(lab_info) -> akeyless.V2Api:
    """The official akeyless SDK pointed at a lab's gateway, trusting the lab CA."""
    config = akeyless.Configuration(host=lab_info.akeyless_url)
    config.ssl_ca_cert = str(lab_info.ca_cert)
    return akeyless.V2Api(akeyless.ApiClient(config))


def admin_token(api: akeyless.V2Api, lab_info) -> str:
    """A t- token of the lab's bootstrap admin (API key from .lab/akeyless-admin.json)."""
    creds = lab_info.akeyless_admin()
    return api.auth(akeyless.Auth(access_id=creds["access_id"], access_key=creds["access_key"])).token


@pytest.fixture(scope="session")
def kube_client(lab):
    """The official kubernetes client as the lab admin (the kubeconfig's current context)."""
    client = kubernetes.config.new_client_from_config(config_file=str(lab.kubeconfig))
    yield client
    client.close()


@pytest.fixture(scope="session")
def akeyless_api(lab) -> akeyless.V2Api:
    return akeyless_sdk(lab)


@pytest.fixture(scope="session")
def sdk_for():
    """A factory: the akeyless SDK for any LabInfo (tests that start labs of their own)."""
    return akeyless_sdk


@pytest.fixture(scope="session")
def akeyless_admin(akeyless_api, lab) -> str:
    return admin_token(akeyless_api, lab)


@pytest.fixture(scope="session")
def admin_token_for():
    """A factory: admin_token(api, lab_info) for tests that start labs of their own."""
    return admin_token


@pytest.fixture(scope="module")
def core(kube_client) -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(kube_client)


@pytest.fixture(scope="module")
def ns(core) -> str:
    """A namespace of the test module's own, deleted after it."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
