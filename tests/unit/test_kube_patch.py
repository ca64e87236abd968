"""Strategic merge patch on the lab's kinds: lists upstream merges by key are merged, others replaced."""
import pytest

from helpers.lab.kube import patch, status

POD = {"metadata": {"name": "p", "finalizers": ["a"]}, "spec": {
    "containers": [{"name": "web", "image": "nginx:1.27", "volumeMounts": [{"mountPath": "/token", "name": "t"}]},
                   {"name": "side", "image": "busybox"}],
    "volumes": [{"name": "t"}]}}


def test_containers_merge_by_name_and_keep_what_the_patch_does_not_name():
    out = patch.strategic(POD, {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}],
                                         "$setElementOrder/containers": [{"name": "web"}, {"name": "side"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["web", "side"]
    assert out["spec"]["containers"][0] == {"name": "web", "image": "nginx:1.28",
                                            "volumeMounts": [{"mountPath": "/token", "name": "t"}]}
    assert POD["spec"]["containers"][0]["image"] == "nginx:1.27"         # the stored object is untouched


def test_directives_delete_replace_and_primitive_lists():
    out = patch.strategic(POD, {"spec": {"containers": [{"name": "side", "$patch": "delete"}]},
                                "metadata": {"finalizers": ["b"], "$deleteFromPrimitiveList/labels": []}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["web"]
    assert out["metadata"]["finalizers"] == ["a", "b"]
    replaced = patch.strategic(POD, {"spec": {"$patch": "replace", "containers": []}})
    assert replaced["spec"] == {"containers": []}


def test_a_list_without_a_merge_key_is_replaced_and_a_keyless_item_refused():
    binding = {"subjects": [{"kind": "User", "name": "a"}]}
    assert patch.strategic(binding, {"subjects": [{"kind": "User", "name": "b"}]}) == {
        "subjects": [{"kind": "User", "name": "b"}]}
    with pytest.raises(status.ApiError) as caught:
        patch.strategic(POD, {"spec": {"containers": [{"image": "x"}]}})
    assert caught.value.code == 400 and "does not contain declared merge key: name" in caught.value.message


def test_a_failing_json_patch_is_upstreams_generic_422():
    with pytest.raises(status.ApiError) as caught:
        patch.apply(patch.JSON_PATCH, POD, [{"op": "test", "path": "/metadata/name", "value": "q"}])
    assert (caught.value.code, caught.value.message) == (
        422, "the server rejected our request due to an error in our request")
