"""kubectl as a learner types it, against the emulator and the real kube-apiserver: every step's exit code,
stdout and stderr compared after normalising (tests/contract/kubectl_session.py).

Needs the binaries from tools/k8s/build.sh and kubectl; skipped otherwise. A step in MODE_DIFFERENCES differs
because the real side runs without a controller-manager; one in EMULATOR_GAPS is a known emulator difference
(strict xfail: fixing it asks for the entry's removal).
"""
import pytest

from helpers.config import Settings
from helpers.lab import apiserver

from .kubectl_session import run_lab, steps
from .passes import in_the_real_stack_pass

pytestmark = in_the_real_stack_pass

STEPS = [name for name, _, _ in steps()]

_NO_CONTROLLER_MANAGER = ("no kube-controller-manager runs beside the real API server; on a full cluster its "
                          "serviceaccount controller and root-ca-cert-publisher put these in every namespace, "
                          "as the emulator does")
_NO_SA_ADMISSION = ("without kube-controller-manager the real stack runs with --disable-admission-plugins=ServiceAccount (nothing would create the "
                    "default ServiceAccount it waits for); the emulator admits pods as a full cluster does")
MODE_DIFFERENCES: dict[str, str] = {
    "list resourceVersion before the changes": "the real stack's controllers (kube-controller-manager) write to "
                                               "etcd on their own, so its resourceVersions move between steps",
}
if apiserver.controller_manager() is None:     # kube-apiserver built, kube-controller-manager not
    MODE_DIFFERENCES.update({
        "serviceaccounts in a new namespace": _NO_CONTROLLER_MANAGER,
        "configmaps in a new namespace": _NO_CONTROLLER_MANAGER,
        "list resourceVersion before the changes": _NO_CONTROLLER_MANAGER,
        "the pod's token volume": _NO_SA_ADMISSION,
        "a pod whose serviceaccount is missing": _NO_SA_ADMISSION,
    })

_CLIENT_DOCS = ("the schemas are generated from the kubernetes Python client's models (release 1.37 docs), which "
                "carry no description for object-typed fields (metadata, spec, roleRef) and mark a few more fields "
                "required than 1.34 does")
EMULATOR_GAPS: dict[str, str] = {
    "explain serviceaccount": _CLIENT_DOCS,
    "explain tokenrequest spec": _CLIENT_DOCS,
    "explain --recursive": _CLIENT_DOCS,
    "apply --server-side with a typo": "upstream answers an applied configuration with an unknown field 500 "
                                       "(kubectl: `Error from server: failed to create typed patch object ...`); "
                                       "the emulator never answers 5xx, so kubectl says `Error from server "
                                       "(BadRequest): ` before the same message",
    "apply a pod change that is not allowed": "upstream appends a diff of its internal PodSpec struct (Go field "
                                              "names) to the Forbidden message; the emulator gives the message only",
    "create a tokenreview with a typo": (
        "/openapi/v2 as protobuf carries no definitions, so kubectl cannot validate the review kinds client-side; "
        "the emulator refuses the typo itself (strict decoding error) where kubectl would have"),
    "bootstrap clusterrolebindings": "the emulator bootstraps only the RBAC policy the workshop uses (cluster-admin, "
                                     "the discovery and auth-delegator roles), not the controllers' 50-odd roles",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, kubectl):
    if not apiserver.available():
        pytest.skip(f"real kube-apiserver not built in {apiserver.bin_dir()}: run `bash tools/k8s/build.sh`")
    base = tmp_path_factory.mktemp("kubectl-session")
    return {kube: run_lab(Settings.load(target="lab", lab_dir=str(base / kube), kube=kube), kubectl)
            for kube in ("emulator", "apiserver")}


def _param(name: str):
    if name in EMULATOR_GAPS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=EMULATOR_GAPS[name]))
    return name


def test_step_names_are_unique():
    assert len(STEPS) == len(set(STEPS))


@pytest.mark.apiserver
@pytest.mark.parametrize("step", [_param(name) for name in STEPS if name not in MODE_DIFFERENCES])
def test_kubectl_prints_what_it_prints_against_the_real_api_server(outputs, step):
    assert outputs["emulator"][step] == outputs["apiserver"][step]


@pytest.mark.apiserver
@pytest.mark.parametrize("step", sorted(MODE_DIFFERENCES))
def test_mode_differences_are_still_differences(outputs, step):
    assert outputs["emulator"][step] != outputs["apiserver"][step], \
        f"no longer differs: drop {step!r} from MODE_DIFFERENCES"
