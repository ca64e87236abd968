"""helpers.tokens: decoding, explaining, redacting and tampering JWTs, with tokens signed by a throwaway key."""
from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from helpers import tokens
from helpers.display import MASK
from helpers.tokens import TokenError

ISSUED = 1_750_000_000


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sa_claims(**overrides) -> dict:
    claims = {
        "aud": ["https://kubernetes.default.svc.cluster.local"],
        "exp": ISSUED + 600,
        "iat": ISSUED,
        "nbf": ISSUED,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": "0b5f9a3e-1111-2222-3333-444455556666",
        "kubernetes.io": {
            "namespace": "demo",
            "serviceaccount": {"name": "app", "uid": "9d1c7e2a-aaaa-bbbb-cccc-ddddeeeeffff"},
        },
        "sub": "system:serviceaccount:demo:app",
    }
    claims.update(overrides)
    return claims


@pytest.fixture(scope="module")
def token(key) -> str:
    return jwt.encode(sa_claims(), key, algorithm="RS256", headers={"kid": "test-kid"})


def test_decode_reads_header_claims_and_signature(token):
    decoded = tokens.decode(token)
    assert decoded.header == {"alg": "RS256", "kid": "test-kid", "typ": "JWT"}
    assert decoded.claims == sa_claims()
    assert decoded.signature == token.split(".")[2]
    assert decoded.subject == "system:serviceaccount:demo:app"
    assert decoded.namespace == "demo"
    assert decoded.service_account == "app"
    assert decoded.service_account_uid == "9d1c7e2a-aaaa-bbbb-cccc-ddddeeeeffff"
    assert decoded.audiences == ["https://kubernetes.default.svc.cluster.local"]
    assert decoded.lifetime_seconds == 600


def test_summary_is_stable_and_hides_the_signature(token):
    summary = tokens.decode(token).summary()
    assert summary == ("RS256 JWT for system:serviceaccount:demo:app, "
                       "audiences ['https://kubernetes.default.svc.cluster.local'], lifetime 600 s")
    assert token.split(".")[2] not in repr(tokens.decode(token))


def test_html_table_masks_the_signature_but_shows_claims(token):
    rendered = tokens.decode(token)._repr_html_()
    assert token.split(".")[2] not in rendered
    assert "system:serviceaccount:demo:app" in rendered
    assert "kubernetes.io.serviceaccount.uid" in rendered


def test_decode_accepts_bearer_prefix_and_the_base64_form_eso_sends(token):
    assert tokens.decode("Bearer " + token).claims == sa_claims()
    wrapped = tokens.to_b64(token)
    assert "." not in wrapped
    assert tokens.from_b64(wrapped) == token
    assert tokens.decode(wrapped).raw == token


@pytest.mark.parametrize("bad, fragment", [
    ("", "empty"),
    ("only.two", "3 dot-separated parts, this value has 2"),
    ("a.b.c.d", "has 4"),
    ("!!!.e30.sig", "not base64url"),
    (base64.urlsafe_b64encode(b"not json").decode().rstrip("=") + ".e30.sig", "header is not JSON"),
    ("e30." + base64.urlsafe_b64encode(b"[1]").decode().rstrip("=") + ".sig", "payload is JSON but not an object"),
])
def test_malformed_tokens_raise_a_clear_error(bad, fragment):
    with pytest.raises(TokenError) as info:
        tokens.decode(bad)
    assert fragment in info.value.message
    assert "header.payload.signature" in info.value.hint


def test_from_b64_rejects_values_that_are_not_a_wrapped_jwt():
    with pytest.raises(TokenError, match="not a JWT"):
        tokens.from_b64(base64.b64encode(b"hello").decode())
    with pytest.raises(TokenError, match="not a base64"):
        tokens.from_b64("***")


def test_explain_orders_known_claims_and_says_what_they_mean(token):
    rows = tokens.explain(tokens.decode(token).claims, now=ISSUED + 2)
    names = [name for name, _, _ in rows]
    assert names == ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "kubernetes.io.namespace",
                     "kubernetes.io.serviceaccount.name", "kubernetes.io.serviceaccount.uid"]
    by_name = {name: (value, meaning) for name, value, meaning in rows}
    assert by_name["exp"][0] == f"2025-06-15 15:16:40 UTC ({ISSUED + 600}), in 9 min 58 s"
    assert by_name["iat"][0].endswith(", 2 s ago")
    assert by_name["aud"][0] == '["https://kubernetes.default.svc.cluster.local"]'
    assert "new one" in by_name["kubernetes.io.serviceaccount.uid"][1]


def test_explain_covers_pod_bound_claims_and_unknown_ones(key):
    claims = sa_claims(custom="x")
    claims["kubernetes.io"].update({"pod": {"name": "web-0", "uid": "p-uid"}, "node": {"name": "n1", "uid": "n-uid"},
                                    "warnafter": ISSUED + 3600})
    rows = {name: meaning for name, _, meaning in tokens.explain(claims)}
    assert "deleting the pod revokes" in rows["kubernetes.io.pod.name"]
    assert rows["kubernetes.io.node.name"] == "the node the pod runs on"
    assert "refreshed" in rows["kubernetes.io.warnafter"]
    assert rows["custom"] == "not a standard Kubernetes claim"


def test_seconds_to_expiry_counts_down_and_goes_negative(token):
    decoded = tokens.decode(token)
    assert decoded.seconds_to_expiry(ISSUED) == 600
    assert tokens.seconds_to_expiry(decoded.claims, ISSUED + 700) == -100
    assert tokens.seconds_to_expiry({"sub": "x"}, ISSUED) is None


def test_audiences_accepts_a_string_or_a_list():
    assert tokens.audiences({"aud": "akeyless"}) == ["akeyless"]
    assert tokens.audiences({"aud": ["a", "b"]}) == ["a", "b"]
    assert tokens.audiences({}) == []


def test_redact_keeps_header_and_payload_and_the_signature_length(token):
    header, payload, signature = token.split(".")
    redacted = tokens.redact(token)
    assert redacted == f"{header}.{payload}.{MASK}({len(signature)} chars)"
    assert signature not in redacted
    assert tokens.decode(token).redacted() == redacted


def test_tamper_changes_one_claim_and_keeps_the_original_signature(token, key):
    forged = tokens.tamper(token, {"kubernetes.io": {"namespace": "prod"}})
    decoded = tokens.decode(forged)
    assert decoded.namespace == "prod"
    assert decoded.service_account == "app"  # nested merge: the rest of kubernetes.io is untouched
    assert decoded.signature == token.split(".")[2]
    assert forged.split(".")[0] == token.split(".")[0]
    # the real proof: a verifier with the issuer's key rejects it, and accepts the original
    public = key.public_key()
    jwt.decode(token, public, algorithms=["RS256"], audience="https://kubernetes.default.svc.cluster.local",
               options={"verify_exp": False})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, public, algorithms=["RS256"], options={"verify_exp": False, "verify_aud": False})


def test_tamper_refuses_a_no_op(token):
    with pytest.raises(TokenError, match="at least one claim"):
        tokens.tamper(token, {})
    with pytest.raises(TokenError, match="leave every claim"):
        tokens.tamper(token, {"sub": "system:serviceaccount:demo:app"})


def test_b64url_round_trip_without_padding():
    for data in (b"", b"a", b"ab", b"abc", json.dumps({"k": "v"}).encode()):
        encoded = tokens.b64url_encode(data)
        assert "=" not in encoded
        assert tokens.b64url_decode(encoded) == data
