"""The chapter's notebook against the real kube-apiserver (lab kube="apiserver"): the same cells, the same
errors, with the Akeyless emulator reviewing tokens against the upstream API server."""
import json

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.lab import apiserver
from helpers.tutorial import notebooks, run_notebook
from .passes import in_the_real_stack_pass

pytestmark = [pytest.mark.apiserver, in_the_real_stack_pass,
              pytest.mark.skipif(not apiserver.available(),
                                 reason=f"real kube-apiserver not built in {apiserver.bin_dir()}: "
                                        "run `bash tools/k8s/build.sh`")]


# chapter 2's expectations (its failure scenarios, its expiry demo); chapter 3 runs on the real stack anyway
@pytest.mark.parametrize("path", notebooks(["02_kubernetes_auth"]), ids=lambda p: p.stem)
def test_notebook_runs_against_the_real_api_server(path, tmp_path, monkeypatch):
    lab_dir = tmp_path / "lab"
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(lab_dir))      # the kernel inherits it: a lab of its own
    try:
        run = run_notebook(path, tmp_path / path.name, {"kube": "apiserver"})
        assert run.ok, run.error
        print(f"{path.name} against the real kube-apiserver: {run.seconds:.1f} s")
        outputs = json.dumps([c.get("outputs", []) for c in json.loads(run.output.read_text())["cells"]])
        assert "(apiserver Kubernetes API)" in outputs
        # every failure scenario reproduces on a real API server; the expiry demo needs the lab clock
        assert "(NOT reproduced)" not in outputs
        assert outputs.count("expiry: not run on this target") == 2      # its text/plain and text/html
    finally:
        lab_runtime.down(Settings.load(lab_dir=str(lab_dir)))
