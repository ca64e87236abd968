"""helpers.access: Akeyless rule paths, capabilities, sub-claims and decisions (pure functions)."""
import pytest

from helpers import access
from helpers.access import AssociationView, RoleView, RuleRef


def role(name, *rules, assoc=(), admin=False):
    return RoleView(name, tuple(RuleRef(name, p, tuple(c), t) for p, c, t in
                                [(r[0], r[1], r[2] if len(r) > 2 else "item-rule") for r in rules]),
                    tuple(assoc), admin)


def am(name, case_sensitive=True, **claims):
    return AssociationView(name, {k: v if isinstance(v, list) else [v] for k, v in claims.items()}, case_sensitive)


@pytest.mark.parametrize("pattern,path,expected", [
    ("/demo/app/db", "/demo/app/db", True),
    ("demo/app/db", "/demo/app/db", True),                 # leading slash optional
    ("/demo/app/db", "/demo/app/db2", False),
    ("/demo/app/*", "/demo/app/db", True),
    ("/demo/app/*", "/demo/app/nested/deep", True),        # * spans segments
    ("/demo/app/*", "/demo/other/db", False),
    ("/demo/devops-*", "/demo/devops-db", True),
    ("/demo/devops-*", "/demo/dev-db", False),
    ("*", "/anything/at/all", True),
    ("/demo/+/db", "/demo/app/db", True),                  # + is exactly one segment
    ("/demo/+/db", "/demo/a/b/db", False),
    ("/demo/+/db", "/demo//db", False),
    ("/foo/+/+/bar/*", "/foo/x/y/bar/z", True),
    ("/foo/+/+/bar/*", "/foo/x/bar/z", False),
    ("/a.b/*", "/aXb/c", False),                           # regex characters are literal
])
def test_path_matching(pattern, path, expected):
    assert access.path_matches(pattern, path) is expected


def test_normalize_path():
    assert access.normalize_path("a//b/") == "/a/b"
    assert access.normalize_path("") == "/"


def test_templates_expand_sub_claims():
    assert access.expand_template("/{{namespace}}/*", {"namespace": ["app", "web"]}) == ["/app/*", "/web/*"]
    assert access.expand_template("/{{namespace}}/*", {}) == []
    assert access.expand_template("/plain/*", {}) == ["/plain/*"]


def test_list_is_implied_and_deny_is_not_a_grant():
    assert access.grants(["read"], "list")
    assert access.grants(["update"], "list")
    assert not access.grants(["deny"], "list")
    assert not access.grants(["read"], "update")


def test_validate_capabilities():
    assert access.validate_capabilities(["LIST", "read", "read"]) == ["read", "list"]
    with pytest.raises(ValueError, match="unknown capability write"):
        access.validate_capabilities(["write"])
    with pytest.raises(ValueError, match="at least one"):
        access.validate_capabilities([])


def test_default_deny():
    d = access.decide([role("r", ("/other/*", ["read"]))], "/demo/db", "read")
    assert not d.allowed and "no item-rule in role(s) r grants read on /demo/db" in d.reason


def test_deny_overrides_grant_in_another_role():
    roles = [role("readers", ("/demo/*", ["read", "list"])), role("blockers", ("/demo/secret", ["deny"]))]
    d = access.decide(roles, "/demo/secret", "read")
    assert not d.allowed and d.role == "blockers" and d.rule.path == "/demo/secret"
    assert access.decide(roles, "/demo/other", "read").allowed


def test_union_across_roles_names_the_deciding_role_and_rule():
    roles = [role("reader", ("/demo/*", ["read"])), role("writer", ("/demo/app/*", ["update"]))]
    d = access.decide(roles, "/demo/app/db", "update")
    assert d.allowed and d.role == "writer" and d.rule.path == "/demo/app/*"
    assert access.decide(roles, "/demo/app/db", "read").role == "reader"
    assert access.effective_capabilities(roles, "/demo/app/db") == ["read", "list", "update"]


def test_rule_types_are_separate():
    roles = [role("r", ("/demo/*", ["read"], "role-rule"))]
    assert not access.decide(roles, "/demo/x", "read").allowed
    assert access.decide(roles, "/demo/x", "read", rule_type="role-rule").allowed


def test_parse_sub_claims_splits_commas():
    assert access.parse_sub_claims({"namespace": "a, b,", "sa": ["x"]}) == {"namespace": ["a", "b"], "sa": ["x"]}
    with pytest.raises(ValueError, match="has no value"):
        access.parse_sub_claims({"namespace": " , "})


def test_sub_claims_keys_and_values_or():
    required = {"namespace": ["app", "web"], "service_account_name": ["eso"]}
    assert access.sub_claims_match(required, {"namespace": ["web"], "service_account_name": ["eso"]})
    assert not access.sub_claims_match(required, {"namespace": ["web"], "service_account_name": ["other"]})
    miss = access.sub_claims_mismatch(required, {"namespace": ["db"], "service_account_name": ["eso"]})
    assert miss == "sub-claim namespace=db does not match the association's namespace=app,web"
    assert "has no sub-claim 'service_account_name'" in access.sub_claims_mismatch(required, {"namespace": ["app"]})


def test_sub_claims_case_and_wildcards():
    assert not access.sub_claims_match({"namespace": ["App"]}, {"namespace": ["app"]})
    assert access.sub_claims_match({"namespace": ["App"]}, {"namespace": ["app"]}, case_sensitive=False)
    assert access.sub_claims_match({"namespace": ["team-*"]}, {"namespace": ["team-blue"]})
    assert access.sub_claims_match({"namespace": ["ns?"]}, {"namespace": ["ns1"]})
    assert not access.sub_claims_match({"namespace": ["ns?"]}, {"namespace": ["ns12"]})


def test_explain_applies_only_matching_associations():
    roles = [
        role("app-reader", ("/demo/app/*", ["read"]), assoc=[am("/k8s/eso", namespace="app")]),
        role("web-reader", ("/demo/web/*", ["read"]), assoc=[am("/k8s/eso", namespace="web")]),
        role("unrelated", ("/*", ["read"]), assoc=[am("/other")]),
    ]
    d = access.explain(roles, "/k8s/eso", "/demo/app/db", "read", {"namespace": ["app"]})
    assert d.allowed and d.role == "app-reader" and d.applicable_roles == ("app-reader",)
    assert d.skipped_roles[0][0] == "web-reader"
    d = access.explain(roles, "/k8s/eso", "/demo/web/db", "read", {"namespace": ["app"]})
    assert not d.allowed and "web-reader" in d.reason and "namespace=app does not match" in d.reason


def test_explain_reports_sub_claim_mismatch_when_no_role_applies():
    roles = [role("app-reader", ("/demo/app/*", ["read"]), assoc=[am("/k8s/eso", namespace="app")])]
    d = access.explain(roles, ["/k8s/eso", "p-123"], "/demo/app/db", "read", {"namespace": ["other"]})
    assert not d.allowed and d.sub_claim_mismatch and d.reason.startswith("sub claim mismatch")
    d = access.explain(roles, "p-unknown", "/demo/app/db", "read", {})
    assert not d.allowed and d.reason == "no access role is associated with this auth method"


def test_association_by_access_id_and_admin_role():
    roles = [role("admin", admin=True, assoc=[am("p-abc")])]
    d = access.explain(roles, {"/whatever", "p-abc"}, "/x", "delete")
    assert d.allowed and d.role == "admin"


def test_cannot_check_deny():
    with pytest.raises(ValueError):
        access.decide([], "/x", "deny")
