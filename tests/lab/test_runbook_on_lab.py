"""The runbook, run by bash against the lab up to its login check (sections 0-8: AKS values, the workload's
ServiceAccount, the auth method, the reviewer, the gateway config, the role, the secret, a real login and read).
kubectl and jq are the real ones; az, helm and akeyless are stand-ins on PATH: az answers as a public AKS cluster
without the OIDC issuer, helm does nothing (no ESO here), akeyless sends the SDK request of each command line."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import akeyless
import pytest

from helpers import akeyless_client as ak
from helpers import runbook
from helpers.cluster import connect
from helpers.config import PROJECT_ROOT, Settings
from helpers.errors import AkeylessError

HERE = Path(__file__).parent
FAKE_AZ = """#!/usr/bin/env bash
# az aks get-credentials: the kubeconfig is already there; az aks show --query Q -o tsv: a public cluster
case "$*" in
  *"get-credentials"*) exit 0 ;;
  *"--query fqdn "*) echo "lab-aks-dns.hcp.westeurope.azmk8s.io" ;;
  *) echo "" ;;
esac
"""


def _tool(directory: Path, name: str, text: str) -> None:
    path = directory / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_the_runbook_sets_up_the_chapter_on_the_lab(lab, lab_settings, kubectl, tmp_path, akeyless_api, akeyless_admin):
    if not shutil.which("jq"):
        pytest.skip("jq is not installed")
    names = SimpleNamespace(**{**runbook.DEFAULTS, "namespace": "rb-app", "service_account": "rb-sa",
                               "auth_method": "/workshop/rb-k8s", "k8s_conf_name": "rb-conf",
                               "role": "/workshop/rb-reader", "secret_path": "/rb/app/db", "secret_rule": "/rb/app/*",
                               "reviewer_namespace": "rb-gw", "reviewer_service_account": "rb-reviewer"})
    admin = ak.connect_lab(lab)
    for delete, name in ((ak.delete_auth_method, names.auth_method), (ak.delete_role, names.role),
                         (ak.delete_item, names.secret_path), (ak.delete_gateway_k8s_config, names.k8s_conf_name)):
        try:        # the akeyless create-* lines fail on an existing object: start from none
            delete(admin, name)
        except AkeylessError:
            pass
    text = runbook.script(names)
    upto_login = text[:text.index("# 9. External Secrets Operator")].rsplit("\n# ---", 1)[0]
    script = tmp_path / "runbook-0-8.sh"
    script.write_text(upto_login + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _tool(bin_dir, "az", FAKE_AZ)
    _tool(bin_dir, "helm", "#!/usr/bin/env bash\ncat >/dev/null 2>&1 || true\n")
    _tool(bin_dir, "akeyless", f"#!/usr/bin/env bash\nexec {sys.executable} {HERE / 'akeyless_cli.py'} \"$@\"\n")
    value = "from-the-shell-" + os.urandom(4).hex()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "KUBECONFIG": str(lab.kubeconfig),
           "GATEWAY_URL": lab.akeyless_url, "SECRET_VALUE": value, "PYTHONPATH": str(PROJECT_ROOT),
           "AKEYLESS_SHIM_URL": lab.akeyless_url, "AKEYLESS_SHIM_CA": str(lab.ca_cert),
           "AKEYLESS_SHIM_TOKEN": akeyless_admin}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    # the last line of section 8: get-secret-value | wc -c, the value and its newline
    assert done.stdout.strip().splitlines()[-1].strip() == str(len(value) + 1)
    assert value not in done.stdout + done.stderr
    assert "API server: lab-aks-dns.hcp.westeurope.azmk8s.io" in done.stderr
    cluster = connect(Settings.load(target="lab", lab_dir=str(lab.dir)))
    assert cluster.bind_token_reviewer(names.reviewer_namespace, names.reviewer_service_account).action == "existed"
    config = akeyless_api.gateway_get_k8_s_auth_config(akeyless.GatewayGetK8SAuthConfig(name=names.k8s_conf_name,
                                                                                       token=akeyless_admin))
    assert config.k8s_host == cluster.server and config.k8s_issuer == cluster.discovery().issuer
