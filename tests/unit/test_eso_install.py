"""What the lab installs for ESO: its chart's RBAC (never cluster-admin), and an audit policy that never
records a credential."""
from helpers.lab import apiserver
from helpers.lab import eso as lab_eso


def test_the_controller_role_is_the_charts_not_admin():
    rules = lab_eso.controller_rules()
    assert not any("*" in r["verbs"] or "*" in r["resources"] for r in rules)
    assert {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]} in rules
    secrets = next(r for r in rules if r["resources"] == ["secrets"])
    assert set(secrets["verbs"]) == {"get", "list", "watch", "create", "update", "delete", "patch"}


def test_the_install_binds_the_role_to_esos_own_service_account():
    objects = {o["kind"]: o for o in lab_eso.install_manifests()}
    binding = objects["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == objects["ClusterRole"]["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "external-secrets",
                                    "namespace": "external-secrets"}]


def test_the_audit_policy_logs_no_token_and_no_secret_body():
    rules = apiserver.audit_policy()["rules"]
    bodies = [r for r in rules if r["level"] in ("Request", "RequestResponse")]
    assert bodies == [{"level": "Request", "verbs": ["create"],
                       "resources": [{"group": "", "resources": ["serviceaccounts/token"]}]}]
    assert rules[-1] == {"level": "None"}
