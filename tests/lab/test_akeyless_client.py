"""helpers.akeyless_client against the lab's gateway: results, masking, errors, re-authentication."""
from __future__ import annotations

import uuid

import pytest

from helpers import akeyless_client as ak
from helpers.errors import AkeylessError, LabOnly
from helpers.lab import advance_clock


@pytest.fixture(scope="module")
def admin(lab):
    return ak.connect_lab(lab)


def uniq(prefix):
    return f"/{prefix}-{uuid.uuid4().hex[:8]}"


def test_connect_and_bad_credentials(lab, admin):
    assert admin.summary() == "admin session (API key) ready"
    with pytest.raises(AkeylessError) as info:
        ak.connect(lab.akeyless_url, lab.akeyless_admin()["access_id"], "wrong", ca_cert=str(lab.ca_cert))
    assert info.value.status == 401 and "access key" in info.value.hint


def test_tls_without_the_lab_ca_is_explained(lab):
    with pytest.raises(AkeylessError) as info:
        ak.auth_with_api_key(lab.akeyless_url, "p-x", "y")
    assert "TLS verification" in str(info.value) and "ca_cert" in info.value.hint


def test_api_key_flow_masks_secrets(lab, admin):
    method, role, base = uniq("am/client"), uniq("role/client"), uniq("demo/client")
    created = ak.create_api_key_auth_method(admin, method)
    assert created.summary() == f"api_key auth method {method} created"
    assert created.access_key not in repr(created.rows())
    ak.create_role(admin, role)
    ak.set_role_rule(admin, role, base + "/*", ["read"])
    assoc = ak.associate_role(admin, role, method)
    assert assoc.summary() == f"role {role} associated with {method} (sub-claims none)"
    ak.create_secret(admin, base + "/db", "hunter2")
    token = ak.auth_with_api_key(lab.akeyless_url, created.access_id, created.access_key, ca_cert=str(lab.ca_cert))
    assert token.token not in token.summary() and token.summary().startswith("authenticated with api_key: token t-")
    value = ak.get_secret_value(token, base + "/db")
    assert value.value == "hunter2" and "hunter2" not in value.summary() and "hunter2" not in value._repr_html_()
    assert ak.get_secret_value(token, base + "/db", reveal=True).summary() == f"{base}/db = hunter2"
    with pytest.raises(AkeylessError) as info:
        ak.create_secret(token, base + "/new", "x")
    assert info.value.status == 401 and "set_role_rule" in info.value.hint
    table = ak.get_role(admin, role)
    assert table.summary() == f"role {role}: rules {base}/* [read]; associated with {method} (none)"


def test_explainer_matches_the_gateway(lab, admin):
    method, role, base = uniq("am/explain"), uniq("role/explain"), uniq("demo/explain")
    ak.create_api_key_auth_method(admin, method)
    ak.create_role(admin, role)
    ak.set_role_rule(admin, role, base + "/app/*", ["read", "list"])
    ak.set_role_rule(admin, role, base + "/app/secret", ["deny"])
    ak.associate_role(admin, role, method, sub_claims={"namespace": ["app", "web"]})
    ok = ak.explain_access(admin, method, base + "/app/db", sub_claims={"namespace": ["web"]})
    assert ok.ok and ok.decision.role == role and ok.summary().startswith(f"ALLOWED: read on {base}/app/db")
    denied = ak.explain_access(admin, method, base + "/app/secret", sub_claims={"namespace": ["app"]})
    assert not denied.ok and "[deny]" in denied.decision.reason
    mismatch = ak.explain_access(admin, method, base + "/app/db", sub_claims={"namespace": ["other"]})
    assert not mismatch.ok and mismatch.decision.sub_claim_mismatch


def test_errors_carry_status_text_and_hint(admin):
    with pytest.raises(AkeylessError) as info:
        ak.get_role(admin, uniq("role/missing"))
    assert info.value.status == 404 and "not found" in str(info.value) and "leading /" in info.value.hint
    name = uniq("role/dup")
    ak.create_role(admin, name)
    with pytest.raises(AkeylessError) as info:
        ak.create_role(admin, name)
    assert info.value.status == 409 and "already exists" in info.value.hint


def test_admin_session_reauthenticates_after_expiry(lab, lab_settings):
    if lab.kube_mode != "emulator":
        pytest.skip("moves the lab clock, which only the emulated Kubernetes API follows (lab up --kube apiserver "
                    "cannot expire tokens early)")
    creds = ak.create_api_key_auth_method(ak.connect_lab(lab), uniq("am/short"), jwt_ttl=1)
    session = ak.connect(lab.akeyless_url, creds.access_id, creds.access_key, ca_cert=str(lab.ca_cert))
    first = session.current_token()
    advance_clock(90, lab_settings)
    with pytest.raises(AkeylessError) as info:   # the call itself re-auths; then this method has no rights
        ak.get_role(session, "/nothing")
    assert info.value.status == 401 and session.current_token() != first


def test_lab_only_readers(lab, admin):
    name = uniq("demo/audited")
    ak.create_secret(admin, name, "x")
    log = ak.audit_log(admin, limit=5, path=name)
    assert log.summary() == "1 audit entry (1 allowed, 0 denied)" and log.entries[0]["command"] == "create-secret"
    assert "TokenReview" in ak.token_reviews(admin, limit=1).summary()


def test_lab_only_on_a_gateway_without_it(lab, admin):
    # the plain-HTTP root answers "unknown command" for /lab-only/<anything it lacks>
    with pytest.raises(LabOnly):
        ak._lab_only(admin, "no-such-log", {})
