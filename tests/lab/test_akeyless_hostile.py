"""The Akeyless emulator under attack, raw HTTP: malformed bodies, wrong types, absurd numbers and huge
payloads answer 400/401/413 in the gateway's {"error"} shape, never a 500; a refused request changes nothing;
a list-only identity never sees a secret value, and no error body quotes one; lab-only endpoints are
served over HTTPS only."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.lab.test_akeyless_wire import post


@pytest.fixture(scope="module")
def http(lab):
    session = requests.Session()
    session.trust_env = False
    session.verify = str(lab.ca_cert)
    return session


@pytest.fixture(scope="module")
def admin(http, lab):
    creds = lab.akeyless_admin()
    status, out = post(http, lab.akeyless_url, "/auth", {"access-id": creds["access_id"],
                                                        "access-key": creds["access_key"]})
    assert status == 200
    return out["token"]


def uniq(prefix: str) -> str:
    return f"/{prefix}-{uuid.uuid4().hex[:8]}"


def send(http, lab, path: str, data: bytes, **headers):
    response = http.post(lab.akeyless_url + path, data=data, timeout=30,
                         headers={"Content-Type": "application/json", **headers})
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response.status_code, response.json()


@pytest.mark.parametrize("path, data, expected", [
    ("/auth", b'{"access-id":' + b"[" * 2000 + b"]" * 2000 + b"}", 400),
    ("/list-items", b'{"token":["x"]}', 400),
    ("/list-items", b'{"token":{"a":1}}', 400),
    ("/auth", b'{"access-id":"p-x","access-key":"' + b"\xff\xfe" + b'"}', 400),
    ("/auth", b'{"access-id":"p-x","access-key":"\\ud800"}', 400),
    ("/auth", b"\x1f\x8b\x08\x00garbage", 400),
    ("/auth", b'{"ttl":Infinity}', 400),
    ("/auth", b'{"ttl":NaN}', 400),
    ("/get-secret-value", b'{"names":["/x"],"version":1e400,"token":"t-x"}', 400),
])
def test_malformed_bodies_are_client_errors(http, lab, path, data, expected):
    status, out = send(http, lab, path, data)
    assert status == expected and set(out) == {"error"}, out


def test_gzip_encoded_garbage_is_400(http, lab):
    status, out = send(http, lab, "/auth", b"not gzip", **{"Content-Encoding": "gzip"})
    assert status == 400 and set(out) == {"error"}


def test_a_body_over_the_limit_is_413(http, lab):
    status, out = send(http, lab, "/auth", b'{"access-id":"' + b"x" * (9 * 1024 * 1024) + b'"}')
    assert status == 413 and "larger than" in out["error"]


def test_numbers_out_of_range_are_refused_and_nothing_is_created(http, lab, admin):
    for field, value in (("jwt-ttl", 1000000000000), ("access-expires", -1000000000000),
                         ("jwt-ttl", 1e400)):
        name = uniq("am/huge")
        raw = json.dumps({"name": name, "token": admin}).encode()[:-1] + f',"{field}":{value}}}'.encode()
        status, out = send(http, lab, "/create-auth-method", raw)
        assert status == 400 and set(out) == {"error"}, out
        status, _ = post(http, lab.akeyless_url, "/get-auth-method", {"name": name, "token": admin})
        assert status == 404


def test_audit_reader_since_must_be_a_number(http, lab, admin):
    status, out = post(http, lab.akeyless_url, "/lab-only/audit-log", {"token": admin, "since": "abc"})
    assert status == 400 and "since" in out["error"]


def test_list_only_identity_never_reads_a_value(http, lab, admin):
    folder = uniq("hostile")
    value = "value-" + uuid.uuid4().hex
    assert post(http, lab.akeyless_url, "/create-secret", {"name": f"{folder}/s", "value": value,
                                                           "token": admin})[0] == 200
    # a lone surrogate cannot be stored: the value is text
    status, out = send(http, lab, "/create-secret", json.dumps({"name": f"{folder}/bad", "token": admin}).encode()
                       [:-1] + b',"value":"x\\ud800"}')
    assert status == 400 and "surrogate" in out["error"]
    method, role = uniq("am/lister"), uniq("role/lister")
    _, created = post(http, lab.akeyless_url, "/create-auth-method", {"name": method, "token": admin})
    post(http, lab.akeyless_url, "/create-role", {"name": role, "token": admin})
    post(http, lab.akeyless_url, "/set-role-rule", {"role-name": role, "path": f"{folder}/*", "capability": ["list"],
                                                   "token": admin})
    post(http, lab.akeyless_url, "/assoc-role-am", {"role-name": role, "am-name": method, "token": admin})
    _, session = post(http, lab.akeyless_url, "/auth", {"access-id": created["access_id"],
                                                       "access-key": created["access_key"]})
    token = session["token"]
    answers = [post(http, lab.akeyless_url, path, body | {"token": token}) for path, body in (
        ("/describe-item", {"name": f"{folder}/s"}), ("/list-items", {"path": folder}),
        ("/get-secret-value", {"names": [f"{folder}/s"]}))]
    assert [status for status, _ in answers] == [200, 200, 401]
    assert all(value not in json.dumps(out) for _, out in answers)


def test_error_bodies_do_not_quote_long_fields(http, lab, admin):
    key = "k" * 200
    status, out = post(http, lab.akeyless_url, "/get-secret-value", {"names": ["/x"], "version": key,
                                                                      "token": admin})
    assert status == 400 and key not in out["error"]


def test_lab_only_endpoints_are_https_only(http, lab, admin):
    response = requests.get(lab.akeyless_http_url + "/lab-only/clock", timeout=5,
                            headers={"Authorization": f"Bearer {lab.admin_token}"})
    assert response.status_code == 404
    status, _ = post(http, lab.akeyless_http_url, "/lab-only/audit-log", {"token": admin})
    assert status == 404
    response = http.get(lab.akeyless_url + "/lab-only/clock", timeout=5,
                        headers={"Authorization": f"Bearer {lab.admin_token}x"})
    assert response.status_code == 401


@pytest.mark.parametrize("data, expected", [(b"[" * 5000 + b"]" * 5000, 400), (b"[1]", 400), (b"x" * 70000, 413),
                                            (b'{"advance_seconds": 1e400}', 400)])
def test_clock_endpoint_refuses_bad_bodies(http, lab, data, expected):
    response = http.post(lab.akeyless_url + "/lab-only/clock", data=data, timeout=10,
                         headers={"Authorization": f"Bearer {lab.admin_token}"})
    assert response.status_code == expected and set(response.json()) == {"error"}


# --- the paths ESO's find and PushSecret use: list-items, create-secret (tags), update-secret-val, delete-item ---

@pytest.mark.parametrize("field, value", [("filter", ["x"]), ("tag", ["t"]), ("tag", {"a": 1}), ("path", ["/x"]),
                                          ("type", [["static-secret"]]), ("type", [{"a": 1}]),
                                          ("minimal-view", "maybe"), ("current-folder", {})])
def test_list_items_refuses_wrong_types(http, lab, admin, field, value):
    status, out = post(http, lab.akeyless_url, "/list-items", {field: value, "token": admin})
    assert status == 400 and set(out) == {"error"} and field in out["error"], out


@pytest.mark.parametrize("extra", [{"value": {"user": "app"}}, {"value": ["v"]}, {"value": 5}, {"value": None},
                                   {"value": "v", "tags": [["nested"]]}, {"value": "v", "tags": [{"k": "v"}]},
                                   {"value": "v", "tags": {"k8s-external-secrets": True}}])
def test_create_secret_refuses_a_non_text_value_or_bad_tags_and_creates_nothing(http, lab, admin, extra):
    name = uniq("hostile/push")
    status, out = post(http, lab.akeyless_url, "/create-secret", {"name": name, "token": admin, **extra})
    assert status == 400 and set(out) == {"error"}, out
    assert post(http, lab.akeyless_url, "/describe-item", {"name": name, "token": admin})[0] == 404


def test_update_and_delete_refuse_bad_bodies_and_change_nothing(http, lab, admin):
    name = uniq("hostile/pushed")
    assert post(http, lab.akeyless_url, "/create-secret", {"name": name, "value": '{"a":"1"}',
                                                           "tags": ["k8s-external-secrets"], "token": admin})[0] == 200
    refused = [post(http, lab.akeyless_url, "/update-secret-val", {"name": name, "token": admin, **extra})
               for extra in ({"value": {"a": "2"}}, {"value": None}, {}, {"value": "x", "keep-prev-version": "perhaps"})]
    refused += [post(http, lab.akeyless_url, "/delete-item", {"name": name, "token": admin, **extra})
                for extra in ({"version": "x"}, {"version": [1]}, {"name": [name]})]
    assert [status for status, _ in refused] == [400] * len(refused), refused
    assert all(set(out) == {"error"} for _, out in refused)
    status, described = post(http, lab.akeyless_url, "/describe-item", {"name": name, "token": admin})
    assert status == 200 and described["last_version"] == 1 and described["item_tags"] == ["k8s-external-secrets"]
    assert post(http, lab.akeyless_url, "/get-secret-value", {"names": [name], "token": admin})[1] == {name: '{"a":"1"}'}


def test_list_items_with_odd_but_valid_filters_answers_an_empty_listing(http, lab, admin):
    for body in ({"filter": "\u0000"}, {"filter": "x" * 50000}, {"tag": "no-such-tag-" + uuid.uuid4().hex}):
        status, out = post(http, lab.akeyless_url, "/list-items", {**body, "token": admin})
        assert (status, out) == (200, {"items": None, "folders": None, "next_page": ""}), out
