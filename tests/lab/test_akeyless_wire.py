"""Raw HTTP against the lab's Akeyless emulator: the exact bodies ESO's akeyless-go client sends
(reference section 6.5), under every V2 prefix, plus the transport rules (JSON everywhere, errors
as {"error"}, unknown commands never a 500)."""
from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

PREFIXES = ["", "/v2", "/api/v2"]


@pytest.fixture(scope="module")
def http(lab):
    session = requests.Session()
    session.trust_env = False       # REQUESTS_CA_BUNDLE would override the lab CA
    session.verify = str(lab.ca_cert)
    return session


def post(http, base, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body) if body is not None else b"")
    response = http.post(base + path, data=data, headers={"Content-Type": "application/json"}, timeout=10)
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    payload = response.json()
    if response.status_code >= 400:
        assert set(payload) == {"error"}, payload
    return response.status_code, payload


@pytest.fixture(scope="module")
def admin_token(http, lab):
    creds = lab.akeyless_admin()
    status, out = post(http, lab.akeyless_url, "/auth", {"access-id": creds["access_id"],
                                                        "access-key": creds["access_key"], "access-type": "access_key"})
    assert status == 200
    return out["token"]


@pytest.fixture(scope="module")
def seeded(http, lab, admin_token):
    base = f"/eso-{uuid.uuid4().hex[:8]}"
    for name, value, tags in ((base + "/app/db", '{"user":"u","password":"p"}', ["k8s-external-secrets"]),
                              (base + "/app/api", "plain", None)):
        body = {"name": name, "value": value, "token": admin_token}
        if tags:
            body["tags"] = tags
        assert post(http, lab.akeyless_url, "/create-secret", body)[0] == 200
    return base


@pytest.mark.parametrize("prefix", PREFIXES)
def test_eso_api_key_flow(http, lab, seeded, prefix):
    creds = lab.akeyless_admin()
    base = lab.akeyless_url + prefix
    # ESO keeps the default access-type "access_key" even when the store says api_key
    status, auth = post(http, base, "/auth", {"access-id": creds["access_id"], "access-key": creds["access_key"],
                                              "access-type": "access_key", "gcp-audience": "akeyless.io",
                                              "json": False, "oci-auth-type": "apikey"})
    assert status == 200 and auth["token"].startswith("t-")
    token = auth["token"]
    key = seeded + "/app/db"
    status, item = post(http, base, "/describe-item", {"name": key, "token": token})
    assert status == 200 and item["item_name"] == key and item["item_type"] == "STATIC_SECRET"
    assert item["creation_date"].endswith("Z") and isinstance(item["item_id"], int)
    assert isinstance(item["last_version"], int) and item["item_tags"] == ["k8s-external-secrets"]
    status, value = post(http, base, "/get-secret-value", {"names": [key], "version": 0, "token": token})
    assert status == 200 and value == {key: '{"user":"u","password":"p"}'}
    status, value = post(http, base, "/get-secret-value", {"names": [key], "version": 0, "token": token,
                                                           "ignore-cache": "true"})
    assert status == 200 and value[key]
    status, listed = post(http, base, "/list-items", {"filter": seeded + "/", "type": [
        "static-secret", "dynamic-secret", "rotated-secret"], "minimal-view": True, "tag": "", "token": token})
    assert status == 200 and sorted(i["item_name"] for i in listed["items"]) == [seeded + "/app/api", key]
    status, tagged = post(http, base, "/list-items", {"filter": seeded + "/", "type": ["static-secret"],
                                                      "minimal-view": False, "tag": "k8s-external-secrets",
                                                      "token": token})
    assert [i["item_name"] for i in tagged["items"]] == [key]


def test_eso_push_and_delete(http, lab, admin_token):
    base = lab.akeyless_url + "/api/v2"
    key = f"/eso-push-{uuid.uuid4().hex[:8]}/db"
    status, out = post(http, base, "/describe-item", {"name": key, "token": admin_token})
    assert status == 404                       # ESO >= 2.9 treats only 404 as "does not exist"
    assert post(http, base, "/create-secret", {"name": key, "value": '{"a":"1"}', "tags": ["k8s-external-secrets"],
                                              "token": admin_token}) == (200, {"name": key})
    assert post(http, base, "/update-secret-val", {"name": key, "value": '{"a":"2"}', "token": admin_token})[0] == 200
    assert post(http, base, "/get-secret-value", {"names": [key], "version": 0, "token": admin_token})[1] == {key: '{"a":"2"}'}
    status, out = post(http, base, "/delete-item", {"name": key, "token": admin_token})
    assert status == 200 and out["item_name"] == key and out["deletion_date"].endswith("Z")
    assert post(http, base, "/describe-item", {"name": key, "token": admin_token})[0] == 404


def test_empty_list_shape(http, lab, admin_token):
    status, out = post(http, lab.akeyless_url, "/list-items", {"filter": "/nothing-here-at-all/", "tag": "",
                                                              "token": admin_token})
    assert status == 200 and out == {"items": None, "folders": None, "next_page": ""}


@pytest.mark.parametrize("path", ["", "/", "/v2", "/api/v2", "/api/v2/"])
def test_root_probe_answers_unknown_command(http, lab, path):
    # ESO's getV2Url POSTs an empty body to the configured URL and keeps it if the reply says "unknown command"
    status, out = post(http, lab.akeyless_http_url, path, raw=b"")
    assert status == 404 and "unknown command" in out["error"]


def test_repeated_slashes_collapse(http, lab, admin_token):
    status, out = post(http, lab.akeyless_url, "//api//v2///validate-token", {"token": admin_token})
    assert status == 200 and out["is_valid"] is True


def test_transport_errors_are_json(http, lab, admin_token):
    url = lab.akeyless_url
    status, out = post(http, url, "/no-such-command", {})
    assert status == 404 and "unknown command 'no-such-command'" in out["error"]
    status, out = post(http, url, "/get-secret-value", raw=b"{not json")
    assert status == 400 and "not valid JSON" in out["error"]
    status, out = post(http, url, "/get-secret-value", raw=b"[1, 2]")
    assert status == 400 and "JSON object" in out["error"]
    status, out = post(http, url, "/get-secret-value", {"token": admin_token})
    assert status == 400 and out["error"] == "missing required field 'names' (a list)"
    status, out = post(http, url, "/create-secret", {"name": "/x/y", "token": admin_token})
    assert status == 400 and out["error"] == "missing required field 'value'"
    status, out = post(http, url, "/get-secret-value", {"names": ["/x"], "version": "abc", "token": admin_token})
    assert status == 400 and "'version' must be an integer" in out["error"]
    response = http.get(url + "/auth", timeout=5)
    assert response.status_code == 405 and response.headers["Content-Type"].startswith("application/json")


def test_unknown_fields_are_ignored(http, lab, admin_token):
    status, out = post(http, lab.akeyless_url, "/validate-token", {"token": admin_token, "json": False,
                                                                  "accessibility": "regular", "frobnicate": [1]})
    assert status == 200 and out["is_valid"]


def test_k8s_token_field_rejects_garbage(http, lab):
    status, out = post(http, lab.akeyless_url, "/auth", {
        "access-id": "p-x", "access-type": "k8s", "k8s-auth-config-name": "c",
        "k8s-service-account-token": base64.b64encode(b"not a jwt").decode()})
    assert status == 401 and "neither a JWT nor base64 of one" in out["error"]
    status, out = post(http, lab.akeyless_url, "/auth", {"access-id": "p-x", "access-type": "k8s",
                                                        "k8s-service-account-token": "a.b.c"})
    assert status == 400 and "k8s-auth-config-name" in out["error"]


def test_lab_clock_still_served(http, lab):
    response = http.get(lab.akeyless_url + "/lab-only/clock", headers={"Authorization": f"Bearer {lab.admin_token}"},
                        timeout=5)
    assert response.status_code == 200 and "offset_seconds" in response.json()


def test_find_semantics_filter_substring_tag_exact_item_name_everywhere(http, lab, admin_token):
    """What ESO's dataFrom.find relies on (reference §6.4/6.5): `filter` matches any part of the name,
    `tag` matches a whole tag, `""` is no filter, every item has item_name in both views, minimal-view
    drops the heavy fields; a caller lists only what its rules let it list (no error for the rest)."""
    base = lab.akeyless_url
    folder = f"/find-{uuid.uuid4().hex[:8]}"
    for name, tags in (("team-a/db", ["payments"]), ("team-a/api", ["payments-eu"]), ("team-b/db", [])):
        assert post(http, base, "/create-secret", {"name": f"{folder}/{name}", "value": "v", "tags": tags,
                                                   "token": admin_token})[0] == 200
    eso_types = ["static-secret", "dynamic-secret", "rotated-secret"]

    def names(**body):
        status, out = post(http, base, "/list-items", {"type": eso_types, "token": admin_token, **body})
        assert status == 200, out
        return sorted(i["item_name"] for i in out["items"] or [])
    assert names(filter=f"{folder}/", tag="") == [f"{folder}/team-a/api", f"{folder}/team-a/db", f"{folder}/team-b/db"]
    assert names(filter="team-a/") == [f"{folder}/team-a/api", f"{folder}/team-a/db"]       # any part of the name
    assert names(filter=f"{folder}/", tag="payments") == [f"{folder}/team-a/db"]            # the whole tag only
    assert names(filter=f"{folder}/", tag="pay") == []
    for minimal in (True, False):
        _, out = post(http, base, "/list-items", {"filter": f"{folder}/", "minimal-view": minimal, "type": eso_types,
                                                  "tag": "", "token": admin_token})
        assert all(isinstance(i["item_name"], str) and i["item_name"] for i in out["items"])
        assert all(("item_versions" in i) is not minimal for i in out["items"])
    # a role with a rule on team-a only: team-b is not listed, and asking for it is an empty answer, not an error
    method, role = f"{folder}/am", f"{folder}/role"
    _, created = post(http, base, "/create-auth-method", {"name": method, "token": admin_token})
    post(http, base, "/create-role", {"name": role, "token": admin_token})
    post(http, base, "/set-role-rule", {"role-name": role, "path": f"{folder}/team-a/*", "capability": ["read"],
                                        "token": admin_token})
    post(http, base, "/assoc-role-am", {"role-name": role, "am-name": method, "token": admin_token})
    _, session = post(http, base, "/auth", {"access-id": created["access_id"], "access-key": created["access_key"]})
    status, out = post(http, base, "/list-items", {"filter": f"{folder}/", "type": eso_types, "minimal-view": True,
                                                   "tag": "", "token": session["token"]})
    assert status == 200 and sorted(i["item_name"] for i in out["items"]) == [f"{folder}/team-a/api",
                                                                              f"{folder}/team-a/db"]
    status, out = post(http, base, "/list-items", {"filter": f"{folder}/team-b/", "type": eso_types,
                                                   "minimal-view": True, "tag": "", "token": session["token"]})
    assert (status, out) == (200, {"items": None, "folders": None, "next_page": ""})
