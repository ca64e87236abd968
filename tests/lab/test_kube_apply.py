"""Server-side apply and managedFields in the Kubernetes emulator: the FieldsV1 encoding, the ownership rules of
updates and applies, conflicts and their messages (unit tests on helpers/lab/kube/fieldsets.py, managedfields.py
and apply.py, with upstream's answers as the expected values), then the same through the wire with the official
kubernetes client. tests/contract holds the emulator to the real kube-apiserver for all of it."""
from __future__ import annotations

import json
import uuid

import kubernetes
import pytest
from multidict import MultiDict

from helpers.lab.kube import apply, fieldsets, managedfields, options, status
from helpers.lab.kube.resources import CONFIGMAPS, EVENTS, NAMESPACES, PODS, ROLES, SERVICEACCOUNTS, SERVICES

NOW = 1_800_000_000.0
LATER = NOW + 60


def cm(data=None, labels=None, name="c") -> dict:
    meta = {"name": name, **({"labels": labels} if labels else {})}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **({"data": data} if data else {})}


def fields_of(obj: dict) -> list[tuple]:
    return [(e["manager"], e["operation"], e["fieldsV1"], "time" in e) for e in obj["metadata"]["managedFields"]]


def stored(obj: dict) -> dict:
    """What the store keeps of an applied object (uid and resourceVersion as a store would set them)."""
    return json.loads(json.dumps(dict(obj, metadata=dict(obj["metadata"], uid="u", resourceVersion="1"))))


# --- the FieldsV1 encoding -----------------------------------------------------------------------------

def test_fields_v1_round_trip_keeps_members_and_leaves():
    wire = {"f:data": {".": {}, "f:a": {}}, "f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {
        ".": {}, "f:port": {}}}}, "f:metadata": {"f:finalizers": {'v:"x.io/y"': {}}}}
    tree = fieldsets.from_wire(wire)
    assert fieldsets.to_wire(tree) == wire
    assert [fieldsets.describe(p) for p in fieldsets.members(tree)] == [
        ".data", ".data.a", ".metadata.finalizers[=\"x.io/y\"]", ".spec.ports[port=80,protocol=\"TCP\"]",
        ".spec.ports[port=80,protocol=\"TCP\"].port"]


def test_fields_v1_puts_the_member_mark_first_and_refuses_what_is_not_a_path():
    tree = {"f:b": {".": {}}, "f:a": {".": {}, "f:x": {".": {}}}}
    assert list(fieldsets.to_wire(tree)) == ["f:a", "f:b"]
    assert list(fieldsets.to_wire(tree)["f:a"]) == [".", "f:x"]
    with pytest.raises(ValueError):
        fieldsets.from_wire({"labels": {}})


def test_set_operations():
    a = fieldsets.from_wire({"f:data": {"f:a": {}, "f:b": {}}})
    b = fieldsets.from_wire({"f:data": {"f:b": {}, "f:c": {}}})
    assert fieldsets.to_wire(fieldsets.union(a, b)) == {"f:data": {"f:a": {}, "f:b": {}, "f:c": {}}}
    assert fieldsets.to_wire(fieldsets.difference(a, b)) == {"f:data": {"f:a": {}}}
    assert fieldsets.to_wire(fieldsets.intersection(a, b)) == {"f:data": {"f:b": {}}}
    assert fieldsets.difference(a, a) == {}


# --- Update entries (create, update, patch) ------------------------------------------------------------

def test_a_create_owns_what_it_set_with_maps_as_members():
    obj = cm({"k": "v"}, {"app": "web"})
    managedfields.record_update(CONFIGMAPS, None, obj, "kubectl-create", NOW)
    assert fields_of(obj) == [("kubectl-create", "Update", {"f:data": {".": {}, "f:k": {}},
                                                            "f:metadata": {"f:labels": {".": {}, "f:app": {}}}}, True)]
    assert obj["metadata"]["managedFields"][0]["apiVersion"] == "v1"


def test_a_create_with_nothing_but_a_name_has_no_entry():
    obj = cm()
    managedfields.record_update(CONFIGMAPS, None, obj, "kubectl-create", NOW)
    assert "managedFields" not in obj["metadata"]


def test_a_pod_create_owns_list_items_and_empty_structs_but_not_its_spec_or_containers():
    # the empty Pod upstream compares with has a spec and `containers: null` (no omitempty): neither is owned
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Pending"},
           "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {},
                                    "ports": [{"containerPort": 80}]}], "securityContext": {}}}
    managedfields.record_update(PODS, None, pod, "kubectl-create", NOW)
    assert fields_of(pod)[0][2] == {"f:spec": {"f:containers": {'k:{"name":"web"}': {
        ".": {}, "f:image": {}, "f:name": {}, "f:ports": {".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': {
            ".": {}, "f:containerPort": {}}}, "f:resources": {}}}, "f:securityContext": {}}}


def test_a_label_added_to_an_object_without_labels_owns_the_map_not_the_metadata():
    old = cm({"a": "1"})
    managedfields.record_update(CONFIGMAPS, None, old, "kubectl-create", NOW)
    new = json.loads(json.dumps(old))
    new["metadata"]["labels"] = {"x": "y"}
    managedfields.record_update(CONFIGMAPS, old, new, "kubectl-label", LATER)
    assert fields_of(new)[1][:3] == ("kubectl-label", "Update", {"f:metadata": {"f:labels": {".": {}, "f:x": {}}}})


def test_an_event_create_does_not_own_the_fields_its_empty_object_already_has():
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "reason": "R", "type": "Normal",
             "involvedObject": {"kind": "Pod", "name": "p"}, "source": {"component": "me"}, "eventTime": None,
             "firstTimestamp": None, "lastTimestamp": None, "reportingComponent": "", "reportingInstance": ""}
    managedfields.record_update(EVENTS, None, event, "kubectl-create", NOW)
    assert fields_of(event)[0][2] == {"f:involvedObject": {}, "f:reason": {}, "f:source": {"f:component": {}},
                                      "f:type": {}}


def test_a_namespace_create_does_not_own_the_finalizers_the_server_adds():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {
        "kubernetes.io/metadata.name": "n"}}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    managedfields.record_update(NAMESPACES, None, ns, "kubectl-create", NOW, ("spec.finalizers",))
    assert fields_of(ns)[0][2] == {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}


def test_an_update_takes_changed_fields_and_removed_fields_leave_every_set():
    old = cm({"a": "1", "b": "2"})
    managedfields.record_update(CONFIGMAPS, None, old, "creator", NOW)
    new = json.loads(json.dumps(old))
    new["data"] = {"a": "changed", "c": "3"}           # b removed, a changed, c added
    managedfields.record_update(CONFIGMAPS, old, new, "editor", LATER)
    assert fields_of(new) == [("creator", "Update", {"f:data": {}}, True),
                              ("editor", "Update", {"f:data": {"f:a": {}, "f:c": {}}}, True)]


def test_an_update_that_changes_nothing_leaves_the_entries_as_they_were():
    old = cm({"a": "1"})
    managedfields.record_update(CONFIGMAPS, None, old, "creator", NOW)
    new = json.loads(json.dumps(old))
    managedfields.record_update(CONFIGMAPS, old, new, "editor", LATER)
    assert new["metadata"]["managedFields"] == old["metadata"]["managedFields"]


def test_an_update_of_an_untracked_object_does_not_start_tracking_it():
    old = cm({"a": "1"})
    new = cm({"a": "2"})
    managedfields.record_update(CONFIGMAPS, old, new, "editor", NOW)
    assert "managedFields" not in new["metadata"]


def test_entries_sort_apply_first_then_by_time_and_manager():
    entries = [managedfields.Entry("z", "Update", "v1", {"f:a": {".": {}}}, "2026-01-01T00:00:00Z"),
               managedfields.Entry("b", "Apply", "v1", {"f:a": {".": {}}}, "2026-01-02T00:00:00Z"),
               managedfields.Entry("a", "Apply", "v1", {"f:a": {".": {}}}, None),
               managedfields.Entry("empty", "Apply", "v1", {})]
    assert [e["manager"] for e in managedfields.encode(entries)] == ["a", "b", "z"]


def test_more_than_ten_update_managers_merge_the_oldest_into_ancient_changes():
    obj = cm({"k0": "v"})
    managedfields.record_update(CONFIGMAPS, None, obj, "m00", NOW)
    for i in range(1, 12):
        new = json.loads(json.dumps(obj))
        new["data"][f"k{i}"] = "v"
        managedfields.record_update(CONFIGMAPS, obj, new, f"m{i:02}", NOW + i)
        obj = new
    managers = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len(managers) == 10 and managers[0] == "ancient-changes" and managers[1:] == [f"m{i:02}" for i in
                                                                                          range(3, 12)]
    ancient = obj["metadata"]["managedFields"][0]
    assert ancient["fieldsV1"] == {"f:data": {".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {}}}
    assert ancient["time"] == managedfields.rfc3339(NOW + 2)


@pytest.mark.parametrize("user_agent, manager", [
    ("kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07", "kubectl"),
    ("OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
    ("Python-urllib/3.12", "Python-urllib"), ("", ""), ("a\x01b/1", "ab"), ("x" * 300, "x" * 128)])
def test_the_default_manager_is_the_user_agents_product(user_agent, manager):
    assert managedfields.manager_from_user_agent(user_agent) == manager


# --- write options ---------------------------------------------------------------------------------

def _options_error(query: dict, verb: str = "patch", applying: bool = True) -> str:
    with pytest.raises(status.ApiError) as raised:
        options.field_manager(MultiDict(query), verb, "kubectl/v1", applying)
    assert raised.value.code == 422
    return raised.value.message


def test_apply_needs_a_field_manager_and_force_needs_apply():
    assert _options_error({}) == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                                  'required for apply patch')
    assert _options_error({"force": "true"}, applying=False) == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch')
    assert _options_error({"fieldManager": "m" * 129}, "create", False) == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes')
    assert options.field_manager(MultiDict(), "update", "kubectl-edit/v1.32 (linux)") == "kubectl-edit"


# --- server-side apply ---------------------------------------------------------------------------------

def test_apply_creates_and_owns_the_leaves_it_applied():
    obj = apply.applied(CONFIGMAPS, None, cm({"a": "1"}, {"x": "1"}), "alice", False, NOW)
    assert fields_of(obj) == [("alice", "Apply", {"f:data": {"f:a": {}}, "f:metadata": {"f:labels": {"f:x": {}}}},
                               True)]


def test_a_field_the_applier_stops_applying_goes_unless_someone_else_owns_it():
    live = stored(apply.applied(CONFIGMAPS, None, cm({"a": "1", "b": "2"}), "alice", False, NOW))
    live = stored(apply.applied(CONFIGMAPS, live, cm({"a": "1"}), "bob", False, NOW))    # co-owns a
    after = apply.applied(CONFIGMAPS, live, cm({"c": "3"}), "alice", False, LATER)
    assert after["data"] == {"a": "1", "c": "3"}
    assert fields_of(after) == [("bob", "Apply", {"f:data": {"f:a": {}}}, False),
                                ("alice", "Apply", {"f:data": {"f:c": {}}}, True)]


def test_applying_the_same_configuration_again_changes_nothing():
    live = stored(apply.applied(CONFIGMAPS, None, cm({"a": "1"}), "alice", False, NOW))
    again = apply.applied(CONFIGMAPS, live, cm({"a": "1"}), "alice", False, LATER)
    assert again["metadata"]["managedFields"] == live["metadata"]["managedFields"]


def test_a_conflict_names_the_manager_and_the_field_as_upstream_does():
    live = stored(apply.applied(CONFIGMAPS, None, cm({"a": "1"}, {"app": "web"}), "kubectl", False, NOW))
    with pytest.raises(status.ApiError) as raised:
        apply.applied(CONFIGMAPS, live, cm({"a": "1"}, {"app": "api"}), "other", False, LATER)
    error = raised.value.status()
    assert (error["code"], error["reason"]) == (409, "Conflict")
    assert error["message"] == 'Apply failed with 1 conflict: conflict with "kubectl": .metadata.labels.app'
    assert error["details"] == {"causes": [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"',
                                            "field": ".metadata.labels.app"}]}


def test_conflicts_with_several_managers_are_grouped_by_manager():
    live = stored(apply.applied(CONFIGMAPS, None, cm({"a": "1"}), "kubectl", False, NOW))
    changed = json.loads(json.dumps(live))
    changed["data"]["b"] = "2"
    managedfields.record_update(CONFIGMAPS, live, changed, "kubectl-edit", NOW)
    with pytest.raises(status.ApiError) as raised:
        apply.applied(CONFIGMAPS, stored(changed), cm({"a": "9", "b": "9"}), "zz", False, LATER)
    assert raised.value.message == ('Apply failed with 2 conflicts: conflicts with "kubectl":\n- .data.a\n'
                                    'conflicts with "kubectl-edit" using v1:\n- .data.b')


def test_force_takes_the_fields_from_their_owners():
    live = stored(apply.applied(CONFIGMAPS, None, cm({"a": "1", "b": "2"}), "alice", False, NOW))
    forced = apply.applied(CONFIGMAPS, live, cm({"a": "9"}), "bob", True, LATER)
    assert forced["data"] == {"a": "9", "b": "2"}
    assert fields_of(forced) == [("alice", "Apply", {"f:data": {"f:b": {}}}, True),
                                 ("bob", "Apply", {"f:data": {"f:a": {}}}, True)]


def test_an_atomic_list_conflicts_as_a_whole():
    def role(verbs):
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": verbs}]}
    live = stored(apply.applied(ROLES, None, role(["get"]), "alice", False, NOW))
    assert fields_of(live)[0][2] == {"f:rules": {}}
    with pytest.raises(status.ApiError) as raised:
        apply.applied(ROLES, live, role(["list"]), "bob", False, LATER)
    assert raised.value.message.endswith(': conflict with "alice": .rules')


def test_associative_lists_merge_by_key_with_the_keys_default():
    def service(*ports):
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                "spec": {"ports": [{"port": p, "name": n} for p, n in ports]}}
    live = stored(apply.applied(SERVICES, None, service((80, "http")), "alice", False, NOW))
    both = stored(apply.applied(SERVICES, live, service((443, "https")), "bob", False, LATER))
    assert [p["port"] for p in both["spec"]["ports"]] == [80, 443]
    assert fields_of(both)[1][2] == {"f:spec": {"f:ports": {'k:{"port":443,"protocol":"TCP"}': {
        ".": {}, "f:name": {}, "f:port": {}}}}}
    with pytest.raises(status.ApiError) as raised:
        apply.applied(SERVICES, both, service((443, "https"), (80, "web")), "bob", False, LATER)
    assert raised.value.message.endswith(': conflict with "alice": .spec.ports[port=80,protocol="TCP"].name')


def test_set_lists_and_atomic_items():
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "finalizers": ["x.io/y"]},
          "secrets": [{"name": "one"}]}
    live = stored(apply.applied(SERVICEACCOUNTS, None, sa, "alice", False, NOW))
    assert fields_of(live)[0][2] == {"f:metadata": {"f:finalizers": {'v:"x.io/y"': {}}},
                                     "f:secrets": {'k:{"name":"one"}': {}}}
    bare = apply.applied(SERVICEACCOUNTS, live, {"apiVersion": "v1", "kind": "ServiceAccount",
                                                 "metadata": {"name": "a"}}, "alice", False, LATER)
    # emptied lists are left for the kind's rules to omit, as Go's omitempty does upstream
    assert not bare.get("secrets") and not bare["metadata"].get("finalizers")
    assert "managedFields" not in bare["metadata"]


def test_an_object_nobody_wrote_through_the_field_manager_belongs_to_before_first_apply():
    live = stored(cm({"a": "1"}, {"team": "x"}))
    with pytest.raises(status.ApiError) as raised:
        apply.applied(CONFIGMAPS, live, cm(labels={"team": "y"}), "kubectl", False, NOW)
    assert raised.value.message == ('Apply failed with 1 conflict: conflict with "before-first-apply" using v1: '
                                    '.metadata.labels.team')


def test_kubectl_takes_over_what_its_client_side_apply_applied():
    config = cm({"a": "1"})
    live = cm({"a": "1"})
    live["metadata"]["annotations"] = {apply.LAST_APPLIED: json.dumps(config)}
    managedfields.record_update(CONFIGMAPS, None, live, "kubectl-client-side-apply", NOW)
    taken = apply.applied(CONFIGMAPS, stored(live), cm({"a": "2"}), "kubectl", False, LATER)
    assert taken["data"] == {"a": "2"}
    assert json.loads(taken["metadata"]["annotations"][apply.LAST_APPLIED])["data"] == {"a": "2"}
    with pytest.raises(status.ApiError):            # another manager gets the conflict
        apply.applied(CONFIGMAPS, stored(live), cm({"a": "2"}), "helm", False, LATER)


@pytest.mark.parametrize("config, message", [
    (cm() | {"kind": "Secret"}, "invalid object type: /v1, Kind=Secret"),
    ({"kind": "ConfigMap"}, "invalid object type: /, Kind=ConfigMap"),
    ({"apiVersion": "rbac.authorization.k8s.io/v2", "kind": "ConfigMap"},
     "invalid object type: rbac.authorization.k8s.io/v2, Kind=ConfigMap"),
    (cm(name="other"), "the name of the object (other) does not match the name on the URL (c)"),
    (dict(cm(), metadata={"name": "c", "managedFields": []}), "metadata.managedFields must be nil"),
    (dict(cm(), dta={}), "failed to create typed patch object (/c; /v1, Kind=ConfigMap): .dta: field not "
                         "declared in schema"),
    (cm({"a": 1}), "failed to create typed patch object (/c; /v1, Kind=ConfigMap): .data.a: expected string, "
                   "got &value.valueUnstructured{Value:1}"),
])
def test_what_apply_refuses_before_merging(config, message):
    with pytest.raises(status.ApiError) as raised:
        apply.check(CONFIGMAPS, config, "c")
    assert (raised.value.code, raised.value.message) == (400, message)


@pytest.mark.parametrize("raw, message", [
    (b"- a\n", "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array "
               "into Go value of type map[string]interface {}"),
    (b"42", "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number "
            "into Go value of type map[string]interface {}"),
    (b"a: [b\n", None),
    (b"[" * 200 + b"]" * 200, None),
])
def test_apply_bodies_that_are_not_objects(raw, message):
    with pytest.raises(status.ApiError) as raised:
        apply.decode(raw)
    assert raised.value.code == 400
    assert raised.value.message.startswith("error decoding YAML: ")
    if message:
        assert raised.value.message == message
    assert apply.decode(b"") == {} and apply.decode(b"null") == {}


# --- through the wire, with the official client --------------------------------------------------------

APPLY_TYPE = "application/apply-patch+yaml"


@pytest.fixture
def core(kube_client):
    core = kubernetes.client.CoreV1Api(kube_client)
    ns = f"ssa-{uuid.uuid4().hex[:6]}"
    core.create_namespace(kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=ns)))
    yield core, ns
    core.delete_namespace(ns)


def _apply(core, ns, body, manager, **options) -> tuple[object, int]:
    """(the ConfigMap, the status) of an apply with the official client's own patch call."""
    data, code, _headers = core.patch_namespaced_config_map_with_http_info(
        body["metadata"]["name"], ns, body, field_manager=manager, _content_type=APPLY_TYPE, **options)
    return data, code


def test_the_official_client_applies_and_gets_the_conflict(core):
    api, ns = core
    assert _apply(api, ns, cm({"mode": "blue"}, name="settings"), "alice")[1] == 201
    created = api.read_namespaced_config_map("settings", ns)
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [("alice", "Apply")]
    with pytest.raises(kubernetes.client.ApiException) as raised:
        _apply(api, ns, cm({"mode": "red"}, name="settings"), "bob")
    assert raised.value.status == 409
    assert json.loads(raised.value.body)["message"] == ('Apply failed with 1 conflict: conflict with "alice": '
                                                        '.data.mode')
    assert _apply(api, ns, cm({"mode": "red"}, name="settings"), "bob", force=True)[1] == 200
    after = api.read_namespaced_config_map("settings", ns)
    assert after.data == {"mode": "red"}
    assert [m.manager for m in after.metadata.managed_fields] == ["bob"]


def test_a_dry_run_apply_and_refused_applies_store_nothing(core, lab_settings):
    """Refused applies store nothing on either server. Their status differs in one place, held by the
    differential's strict xfail "apply with a wrong type": the real kube-apiserver answers a value its typed
    patch cannot hold with a 500, the emulator (which never answers 5xx) with upstream's message as a 400."""
    api, ns = core
    wrong_type = 500 if lab_settings.kube == "apiserver" else 400
    _apply(api, ns, cm({"mode": "blue"}, name="settings"), "alice")
    before = api.read_namespaced_config_map("settings", ns).to_dict()
    assert _apply(api, ns, cm({"mode": "x"}, name="settings"), "bob", force=True, dry_run="All")[0].data == \
        {"mode": "x"}
    for body, refused in ((cm({"mode": 1}, name="settings"), (wrong_type,)),
                          (dict(cm(name="settings"), kind="Secret"), (400, 409)),
                          (cm({"mode": "y"}, name="elsewhere") | {"metadata": {"name": "settings", "resourceVersion": "1"}},
                           (400, 409))):
        with pytest.raises(kubernetes.client.ApiException) as raised:
            _apply(api, ns, body, "bob", force=True)
        assert raised.value.status in refused
    assert api.read_namespaced_config_map("settings", ns).to_dict() == before
    assert api.list_namespaced_config_map(ns, field_selector="metadata.name=elsewhere").items == []
