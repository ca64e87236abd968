"""`python -m helpers runbook` prints one valid, shellcheck-clean bash script for the parameters given."""
import shutil
import subprocess
import sys

import pytest

from helpers import runbook

FLAGS = ["--namespace", "team-a", "--service-account", "team-a-sa", "--audience", "team-a-akeyless",
         "--auth-method", "/aks/team-a", "--k8s-conf-name", "team-a-conf", "--role", "/aks/team-a-reader",
         "--secret-path", "/team-a/db/password", "--secret-rule", "/team-a/db/*",
         "--cluster-name", "aks-prod", "--resource-group", "rg-prod"]


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    done = subprocess.run([sys.executable, "-m", "helpers", "runbook", *FLAGS], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("runbook") / "runbook.sh"
    path.write_text(done.stdout)
    return path


def test_it_is_bash_that_parses(script):
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_shellcheck_finds_nothing(script):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    done = subprocess.run(["shellcheck", "-s", "bash", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_every_parameter_reaches_the_script(script):
    text = script.read_text()
    for value in FLAGS[1::2]:
        assert value in text, value
    assert '--resource-group "$RESOURCE_GROUP" --name "$CLUSTER_NAME"' in text
    assert "--bound-namespaces team-a --bound-sa-names team-a-sa --audience team-a-akeyless" in text
    assert "--sub-claims namespace=team-a --sub-claims service_account_name=team-a-sa" in text
    # commented section by section, in the chapter's order
    sections = [line for line in text.splitlines() if line[:4] in ("# 0.", "# 1.", "# 2.", "# 3.", "# 4.", "# 5.",
                                                                    "# 6.", "# 7.", "# 8.", "# 9.", "# 10", "# 11")]
    assert len(sections) == 12


def test_secrets_come_from_the_shell_never_from_the_script():
    text = runbook.script(runbook.names_from(object()))     # the chapter's defaults
    for variable in ("PRV_KEY", "REVIEWER_JWT", "SECRET_VALUE", "GATEWAY_ACCESS_KEY", "APP_TOKEN"):
        assert f'"${variable}"' in text
    assert ': "${SECRET_VALUE:?' in text and ': "${GATEWAY_URL:?' in text
