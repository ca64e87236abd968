"""What every namespace holds (emulator: the controller-manager's default ServiceAccount and kube-root-ca.crt),
the `kubernetes` Service and Services of one's own, and Events through both APIs, via the official client."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from kubernetes.client import (CoreV1Event, EventsV1Api, EventsV1Event, V1ObjectMeta,
                               V1ObjectReference, V1Service, V1ServicePort, V1ServiceSpec)
from kubernetes.client.exceptions import ApiException



def test_a_new_namespace_has_its_default_serviceaccount_and_root_ca(core, ns, lab):
    if lab.kube_mode != "emulator":
        pytest.skip("needs kube-controller-manager beside the real API server")
    assert [sa.metadata.name for sa in core.list_namespaced_service_account(ns).items] == ["default"]
    root_ca = core.read_namespaced_config_map("kube-root-ca.crt", ns)
    assert root_ca.data["ca.crt"] == lab.ca_cert.read_text()
    first = core.read_namespaced_service_account("default", ns).metadata.uid
    core.delete_namespaced_service_account("default", ns)
    assert core.read_namespaced_service_account("default", ns).metadata.uid != first     # the controller's again


def test_the_kubernetes_service_points_at_the_api_server(core, lab):
    svc = core.read_namespaced_service("kubernetes", "default")
    assert svc.spec.cluster_ip == "10.0.0.1" and svc.spec.type == "ClusterIP"
    assert svc.spec.ports[0].port == 443 and svc.spec.ports[0].target_port == int(lab.kube_url.rsplit(":", 1)[1])
    assert svc.metadata.labels == {"component": "apiserver", "provider": "kubernetes"}


def test_services_get_a_cluster_ip_that_cannot_change(core, ns):
    made = core.create_namespaced_service(ns, V1Service(metadata=V1ObjectMeta(name="web"), spec=V1ServiceSpec(
        selector={"app": "web"}, ports=[V1ServicePort(port=80)])))
    assert made.spec.cluster_ip.startswith("10.0.0.") and made.spec.cluster_ips == [made.spec.cluster_ip]
    assert made.spec.ports[0].target_port == 80 and made.spec.session_affinity == "None"
    made.spec.cluster_ip, made.spec.cluster_ips = "10.0.0.2" if made.spec.cluster_ip != "10.0.0.2" else "10.0.0.3", None
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_service("web", ns, made)
    assert caught.value.status == 422 and "may not change once set" in caught.value.body
    deleted = core.delete_namespaced_service("web", ns)          # Services answer a delete with the object
    assert deleted.metadata.name == "web"


def test_core_and_events_k8s_io_are_one_storage(core, ns, kube_client):
    core.create_namespaced_event(ns, CoreV1Event(
        metadata=V1ObjectMeta(name="e1"), involved_object=V1ObjectReference(kind="Pod", name="p", namespace=ns),
        reason="Started", message="hello", type="Normal"))
    # read raw: a legacy event's eventTime is null, which the client's EventsV1Event model refuses
    seen = json.loads(EventsV1Api(kube_client).read_namespaced_event("e1", ns, _preload_content=False).data)
    assert (seen["regarding"]["name"], seen["note"], seen["reason"], seen["eventTime"]) == ("p", "hello", "Started",
                                                                                            None)
    now = dt.datetime.now(dt.timezone.utc)
    EventsV1Api(kube_client).create_namespaced_event(ns, EventsV1Event(
        metadata=V1ObjectMeta(name="e2"), event_time=now, reporting_controller="workshop/lab",
        reporting_instance="lab-1", action="Check", reason="Checked", type="Warning", note="new style",
        regarding=V1ObjectReference(kind="Pod", name="p", namespace=ns)))
    back = core.read_namespaced_event("e2", ns)
    assert (back.involved_object.name, back.message, back.reporting_component) == ("p", "new style", "workshop/lab")
    # an incomplete events.k8s.io Event is refused: tests/contract/kubectl_session.py (the client refuses to send it)
