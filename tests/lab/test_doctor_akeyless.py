"""`doctor --akeyless`: every link passes after the chapter's setup, and each injected fault fails on exactly
its own line, with its fix; the links it does not break still pass. Read-only: the doctor changes nothing."""
from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from helpers import akeyless_client as ak
from helpers import doctor
from helpers.cluster import connect
from helpers.config import PROJECT_ROOT
from helpers.errors import AkeylessError
from helpers.failures import _unrelated_ca_b64

AKS_OIDC_ISSUER = "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/1111-2222/"
NAMES = SimpleNamespace(namespace="doc-app", service_account="doc-sa", audience="akeyless",
                        auth_method="/workshop/doc-k8s", k8s_conf_name="doc-conf", role="/workshop/doc-reader",
                        secret_path="/doc/app/db-password", secret_rule="/doc/app/*", reviewer_namespace="doc-gw",
                        reviewer_service_account="doc-reviewer", k8s_secret="doc-secret",
                        eso_namespace="external-secrets")


def _quietly(action):
    try:
        action()
    except AkeylessError:
        pass


class Setup:
    """The chapter's setup for NAMES, by the helpers the chapter uses, with a fault switch per link."""

    def __init__(self, lab, lab_settings):
        self.settings = lab_settings
        self.cluster = connect(lab_settings)
        self.session = ak.connect_lab(lab)
        self.issuer = self.cluster.discovery().issuer

    def all(self):
        n, c, s = NAMES, self.cluster, self.session
        for ns, sa in ((n.namespace, n.service_account), (n.reviewer_namespace, n.reviewer_service_account)):
            c.ensure_namespace(ns)
            c.ensure_service_account(ns, sa)
        c.bind_token_reviewer(n.reviewer_namespace, n.reviewer_service_account)
        self.reviewer_jwt = c.request_token(n.reviewer_namespace, n.reviewer_service_account,
                                            expiration_seconds=24 * 3600).raise_for_error().token
        _quietly(lambda: ak.delete_auth_method(s, n.auth_method))
        self.method = ak.create_k8s_auth_method(s, n.auth_method, bound_namespaces=[n.namespace],
                                                bound_sa_names=[n.service_account], audience=n.audience)
        self.config()
        self.role()
        _quietly(lambda: ak.delete_item(s, n.secret_path))
        ak.create_secret(s, n.secret_path, "doctor-test-value")

    def config(self, **changes):
        n = NAMES
        fields = dict(access_id=self.method.access_id, signing_key=self.method.prv_key, k8s_host=self.cluster.server,
                      k8s_ca_cert=self.cluster.ca_certificate().b64, token_reviewer_jwt=self.reviewer_jwt,
                      k8s_issuer=self.issuer, disable_issuer_validation=False) | changes
        _quietly(lambda: ak.delete_gateway_k8s_config(self.session, n.k8s_conf_name))
        ak.create_gateway_k8s_config(self.session, n.k8s_conf_name, **fields)

    def role(self, sub_claims=None, rule=None):
        n, s = NAMES, self.session
        _quietly(lambda: ak.delete_role(s, n.role))
        ak.create_role(s, n.role)
        ak.associate_role(s, n.role, n.auth_method, sub_claims=sub_claims or {
            "namespace": [n.namespace], "service_account_name": [n.service_account]})
        ak.set_role_rule(s, n.role, rule or n.secret_rule, ["read", "list"])


@pytest.fixture(scope="module")
def setup(lab, lab_settings):
    done = Setup(lab, lab_settings)
    done.all()
    return done


def failed(report) -> list[str]:
    return [c.name for c in report.checks if c.status == "FAIL"]


def test_every_link_passes_after_the_chapters_setup(setup):
    report = doctor.run_akeyless_doctor(setup.settings, NAMES)
    assert report.ok, report.as_text()
    assert [c.name for c in report.checks] == [doctor.L_GATEWAY, doctor.L_CLUSTER, doctor.L_METHOD, doctor.L_CONFIG,
                                               doctor.L_HOST, doctor.L_CA, doctor.L_REVIEWER, doctor.L_ISSUER,
                                               doctor.L_ROLE, doctor.L_RULE, doctor.L_LOGIN]
    assert {c.status for c in report.checks} == {"PASS"}, report.as_text()
    assert report.check(doctor.L_LOGIN).detail == (f"logged in (namespace={NAMES.namespace}, service_account_name="
                                                   f"{NAMES.service_account}) and read {NAMES.secret_path} (17 chars)")
    assert "doctor-test-value" not in report.as_text()


def test_the_chapters_config_without_an_issuer_is_a_warning_not_a_failure(setup):
    """The SDK sends its default k8s-issuer and the lab, like current gateways, leaves iss to TokenReview."""
    setup.config(k8s_issuer=None, disable_issuer_validation=None)
    try:
        report = doctor.run_akeyless_doctor(setup.settings, NAMES)
    finally:
        setup.config()
    assert report.ok, report.as_text()
    assert report.check(doctor.L_ISSUER).status == "WARN"
    assert setup.issuer in report.check(doctor.L_ISSUER).fix


def _faulted(setup, names=NAMES):
    return doctor.run_akeyless_doctor(setup.settings, names)


def _broken(setup, break_it, restore):
    """The doctor's report with one link broken, the link restored after."""
    break_it()
    try:
        return _faulted(setup)
    finally:
        restore()


def test_reviewer_binding_removed(setup):
    reviewer = (NAMES.reviewer_namespace, NAMES.reviewer_service_account)
    report = _broken(setup, lambda: setup.cluster.unbind_token_reviewer(*reviewer),
                     lambda: setup.cluster.bind_token_reviewer(*reviewer))
    assert failed(report) == [doctor.L_REVIEWER], report.as_text()
    check = report.check(doctor.L_REVIEWER)
    assert "may not create TokenReviews" in check.detail
    assert "--clusterrole=system:auth-delegator --serviceaccount=doc-gw:doc-reviewer" in check.fix
    assert report.check(doctor.L_LOGIN).status == "SKIP"


def test_wrong_ca(setup):
    report = _broken(setup, lambda: setup.config(k8s_ca_cert=_unrelated_ca_b64()),
                     setup.config)
    assert failed(report) == [doctor.L_CA], report.as_text()
    assert "does not verify with k8s-ca-cert" in report.check(doctor.L_CA).detail
    assert "certificate-authority-data" in report.check(doctor.L_CA).fix


def test_wrong_config_name(setup):
    report = _faulted(setup, replace_names(k8s_conf_name="doc-conf-typo"))
    assert failed(report) == [doctor.L_CONFIG], report.as_text()
    assert "not found" in report.check(doctor.L_CONFIG).detail
    assert "k8sConfName" in report.check(doctor.L_CONFIG).fix
    assert {report.check(n).status for n in (doctor.L_HOST, doctor.L_CA, doctor.L_REVIEWER, doctor.L_ISSUER)} == {"SKIP"}
    assert report.check(doctor.L_ROLE).status == "PASS"


def test_sub_claim_mismatch(setup):
    report = _broken(setup, lambda: setup.role(sub_claims={"namespace": ["some-other-namespace"]}),
                     setup.role)
    assert failed(report) == [doctor.L_ROLE], report.as_text()
    assert "namespace=doc-app does not match the association's namespace=some-other-namespace" in \
        report.check(doctor.L_ROLE).detail
    assert "assoc-role-am --role-name /workshop/doc-reader" in report.check(doctor.L_ROLE).fix


def test_rule_not_covering_the_path(setup):
    report = _broken(setup, lambda: setup.role(rule="/doc/other/*"),
                     setup.role)
    assert failed(report) == [doctor.L_RULE], report.as_text()
    assert "no rule of /workshop/doc-reader grants read on /doc/app/db-password" in report.check(doctor.L_RULE).detail
    assert "set-role-rule" in report.check(doctor.L_RULE).fix


def test_issuer_mismatch(setup):
    report = _broken(setup, lambda: setup.config(k8s_issuer=AKS_OIDC_ISSUER),
                     setup.config)
    assert failed(report) == [doctor.L_ISSUER], report.as_text()
    assert "issuer validation failed" in report.check(doctor.L_ISSUER).detail
    assert f"--k8s-issuer {setup.issuer}" in report.check(doctor.L_ISSUER).fix


def test_auth_method_outside_the_bounds(setup):
    report = _faulted(setup, replace_names(namespace="doc-elsewhere"))
    assert failed(report)[0] == doctor.L_METHOD, report.as_text()
    assert "bound-namespaces" in report.check(doctor.L_METHOD).detail


def test_the_cli_exits_1_on_a_fail_and_0_on_a_pass(setup, lab_settings):
    base = [sys.executable, "-m", "helpers", "--lab-dir", str(lab_settings.lab_dir), "doctor", "--akeyless"]
    flags = ["--namespace", NAMES.namespace, "--service-account", NAMES.service_account, "--auth-method",
             NAMES.auth_method, "--k8s-conf-name", NAMES.k8s_conf_name, "--role", NAMES.role, "--secret-path",
             NAMES.secret_path, "--secret-rule", NAMES.secret_rule, "--reviewer-namespace", NAMES.reviewer_namespace,
             "--reviewer-service-account", NAMES.reviewer_service_account]
    good = subprocess.run(base + flags, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "PASS  login as the ServiceAccount and read" in good.stdout
    bad = subprocess.run(base + flags + ["--k8s-conf-name", "doc-conf-typo"], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=120)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL  gateway k8s auth config" in bad.stdout and "fix: " in bad.stdout


def replace_names(**changes):
    return SimpleNamespace(**{**vars(NAMES), **changes})


def test_api_server_unreachable_from_the_gateway(setup):
    """Bounded by the gateway's TokenReview timeout: a k8s-host whose port drops every new connection."""
    from helpers.failures import _BlackHole
    with _BlackHole() as host:
        setup.config(k8s_host=host)
        try:
            report = _faulted(setup)
        finally:
            setup.config()
    assert failed(report) == [doctor.L_HOST], report.as_text()
    assert "the gateway cannot reach" in report.check(doctor.L_HOST).detail
    assert "--use-gw-service-account" in report.check(doctor.L_HOST).fix
    assert report.check(doctor.L_CA).status == "SKIP"       # nothing answers there to verify


def test_a_cluster_known_only_by_its_kubeconfig(setup, lab, lab_settings):
    """target=kubeconfig (another user of the same kubeconfig, as with AKS): the cluster through the kubeconfig,
    the lab's gateway beside it, as the chapter does when no AKEYLESS_URL is set."""
    from helpers.config import Settings
    settings = Settings.load(target="kubeconfig", kubeconfig=str(lab.kubeconfig), context="akeyless-lab-cert",
                             lab_dir=str(lab_settings.lab_dir))
    report = doctor.run_akeyless_doctor(settings, NAMES)
    assert report.ok, report.as_text()
    assert "the lab's gateway" in report.check(doctor.L_GATEWAY).detail
    assert "context akeyless-lab-cert" in report.check(doctor.L_CLUSTER).detail
