"""The replay's Secret metadata, computed the way ESO v0.16.2 computes it (utils.ObjectHash: SHA3-224
of Go's `%+v` text). The differential test (tests/contract/test_eso_differential.py) holds the same
values to the real controller's."""
import hashlib

from helpers import eso


def test_go_map_text_sorts_keys_and_prints_bytes_as_decimal_lists():
    assert eso.go_map_text({"b": b"\x01", "a": b"hi"}) == "map[a:[104 105] b:[1]]"
    assert eso.go_map_text({}) == "map[]"


def test_data_hash_is_sha3_224_of_the_go_text():
    assert eso.data_hash({"password": "s3"}) == hashlib.sha3_224(b"map[password:[115 51]]").hexdigest()


def test_owned_secret_carries_created_by_label_and_owner_reference():
    body = eso.secret_body("ns", "target", "es", {"k": "v"}, owner_uid="uid-1")
    meta = body["metadata"]
    assert meta["labels"] == {eso.MANAGED_LABEL: "true", eso.OWNER_LABEL: hashlib.sha3_224(b"ns/es").hexdigest()}
    assert meta["ownerReferences"] == [{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                                        "name": "es", "uid": "uid-1", "controller": True,
                                        "blockOwnerDeletion": True}]
    assert set(meta["annotations"]) == {eso.HASH_ANNOTATION}


def test_merge_policy_secret_has_no_created_by_label_nor_owner():
    meta = eso.secret_body("ns", "target", "es", {"k": "v"}, owned=False, owner_uid="uid-1")["metadata"]
    assert eso.OWNER_LABEL not in meta["labels"] and "ownerReferences" not in meta
