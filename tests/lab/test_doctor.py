"""helpers.doctor: every link passes against the lab; a broken link fails with its fix, later ones skip."""
from __future__ import annotations

import json
import subprocess
import sys

from helpers.cluster import connect
from helpers.config import PROJECT_ROOT, Settings
from helpers.doctor import BINDING, DOCTOR_NAMESPACE, run_doctor

LINKS = ["lab running", "kubeconfig", "API reachable, TLS verified", "Kubernetes version",
         "namespace and ServiceAccount", "token minted (TokenRequest)", "reviewer may create TokenReviews",
         "token reviewed as the reviewer", "issuer discovery"]


def test_doctor_passes_against_the_lab_and_cleans_up(lab, lab_settings):
    report = run_doctor(lab_settings)
    assert report.ok, report.as_text()
    # on the real stack the doctor also checks ESO's CRDs and controller (tests/contract/test_eso_real.py)
    links = LINKS + (["ESO CRDs established", "ESO controller up"] if lab.real_eso else [])
    assert [c.name for c in report.checks] == links
    assert {c.status for c in report.checks} == {"PASS"}
    assert report.check("token reviewed as the reviewer").detail == (
        f"authenticated as system:serviceaccount:{DOCTOR_NAMESPACE}:doctor-app "
        f"(reviewed by system:serviceaccount:{DOCTOR_NAMESPACE}:doctor-reviewer)")
    assert report.summary() == (f"target lab ({lab_settings.lab_dir}): {len(links)}/{len(links)} checks passed, "
                                "ready for the tutorial")
    text = report.as_text()
    assert text.splitlines()[-1] == report.summary()
    assert all(f"PASS  {name}" in text for name in links)

    cluster = connect(lab_settings)
    assert BINDING not in {b.metadata.name for b in cluster.rbac.list_cluster_role_binding().items}
    assert cluster.ensure_service_account(DOCTOR_NAMESPACE, "doctor-app").created  # it had been deleted
    cluster.delete_service_account(DOCTOR_NAMESPACE, "doctor-app")
    assert run_doctor(lab_settings).ok  # a second run finds the namespace it kept and passes again


def test_doctor_with_the_kubeconfig_target(lab):
    report = run_doctor(Settings.load(target="kubeconfig", kubeconfig=str(lab.kubeconfig),
                                      context="akeyless-lab-cert"))
    assert report.ok, report.as_text()
    # beside any cluster the doctor also looks for ESO (a WARN, not a FAIL, when there is none)
    assert [c.name for c in report.checks] == LINKS[1:] + ["ESO CRDs established", "ESO controller up"]


def test_a_broken_link_fails_with_its_fix_and_later_links_skip(lab, tmp_path):
    config = json.loads(lab.kubeconfig.read_text())
    config["users"][0]["user"]["token"] = "not-the-admin-token"
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    report = run_doctor(Settings.load(target="kubeconfig", kubeconfig=str(path)))
    assert not report.ok
    statuses = {c.name: c.status for c in report.checks}
    failed = [c for c in report.checks if c.status == "FAIL"]
    assert len(failed) == 1
    # an invalid bearer token is a 401 on every path, /version included (no fallback to anonymous)
    assert failed[0].name == "API reachable, TLS verified"
    assert failed[0].detail == "reading the API server version: Unauthorized"
    assert "did not accept the credentials" in failed[0].fix
    after = LINKS[LINKS.index(failed[0].name) + 1:]
    assert all(statuses[name] == "SKIP" for name in after)
    assert "fix: " in report.as_text()


def test_unreachable_api_server(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}]}))
    report = run_doctor(Settings.load(target="kubeconfig", kubeconfig=str(path)))
    reach = report.check("API reachable, TLS verified")
    assert reach.status == "FAIL" and "cannot reach the API server" in reach.detail
    assert "server URL" in reach.fix
    assert report.check("issuer discovery").status == "SKIP"


def test_cli_doctor_exit_codes(lab, lab_settings, tmp_path):
    run = subprocess.run([sys.executable, "-m", "helpers", "--lab-dir", str(lab_settings.lab_dir), "doctor"],
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    links = len(LINKS) + (2 if lab.real_eso else 0)     # the real stack adds ESO's CRDs and controller
    assert f"{links}/{links} checks passed" in run.stdout
    missing = subprocess.run([sys.executable, "-m", "helpers", "doctor", "--target", "kubeconfig",
                              "--kubeconfig", str(tmp_path / "none")],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1
    assert "FAIL  kubeconfig" in missing.stdout and "does not exist" in missing.stdout
