"""The emulator held to the real kube-apiserver: the same raw requests against both, answers compared
after normalising uids, resource versions, timestamps, tokens and ports (tests/contract/probe.py).

Needs the binaries from tools/k8s/build.sh; skipped otherwise. A scenario listed in MODE_DIFFERENCES
differs because the real side runs without a controller-manager (envtest-style), not because the
emulator is wrong. One in EMULATOR_GAPS is a known emulator difference, written up in the lab notes
(contract-diffs): strict xfail, so fixing the emulator turns it into a failure that asks for the
entry's removal.
"""
import pytest

from helpers.config import Settings
from helpers.lab import apiserver

from .probe import run_lab
from .passes import in_the_real_stack_pass

pytestmark = in_the_real_stack_pass

SCENARIOS = (
    "namespace create", "namespace create again", "namespace missing", "serviceaccount in a missing namespace",
    "serviceaccount create", "managedFields on a created object", "serviceaccount invalid name",
    "serviceaccount names in a new namespace",
    "tokenrequest defaults", "tokenrequest 600 s with audience", "tokenrequest 599 s", "tokenrequest 2^32 s",
    "tokenrequest missing serviceaccount", "tokenrequest in a missing namespace", "tokenrequest bound to a missing pod",
    "token header keys", "token claims", "token lifetimes", "token lifetime 48 h",
    "review valid, no audiences", "review valid, issuer audience", "review valid, two audiences",
    "review wrong audience", "review garbage", "review empty token", "review tampered signature", "review expired",
    "review not yet valid", "review foreign issuer", "review by a caller without auth-delegator",
    "review by the admin", "review after the serviceaccount is deleted",
    "review after the serviceaccount is recreated", "review again right after the serviceaccount is deleted",
    "sa token calls the API (wrong audience for the API)",
    "bad bearer token", "anonymous list", "anonymous readyz", "selfsubjectreview as a serviceaccount",
    "secret create with stringData", "secret read without RBAC", "secret missing",
    "secret update with a stale resourceVersion",
    "openid configuration", "openid configuration, anonymous", "openid configuration, as a serviceaccount",
    "jwks key fields and content type", "jwks with Accept: application/json only", "jwks, anonymous",
    "tokenrequest metadata.uid is the serviceaccount's", "selfsubjectreview as the admin",
    "list in the default namespace: serviceaccounts", "list in the default namespace: configmaps",
    "dry-run delete of a serviceaccount", "dry-run delete of a secret", "dry-run delete of a namespace",
    "dry-run create", "dry-run bad value", "after the dry runs",
    "table /api/v1/namespaces/probe/serviceaccounts/app", "table /api/v1/namespaces/probe/secrets",
    "table /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/probe-reviewer", "table /api/v1/namespaces/probe",
    "table column descriptions app", "table column descriptions secrets",
    "table column descriptions probe-reviewer", "table column descriptions probe",
    "namespace delete", "namespace right after delete",
    # server-side apply (probe.apply_scenarios)
    "apply creates", "apply creates: managed fields", "apply co-owning a value", "apply dropping fields",
    "apply dropping fields: the object", "apply conflict", "apply conflicts with two managers", "apply forced",
    "merge patch after apply", "update after apply", "apply dry run", "after the dry-run apply",
    "apply dry run of a new object", "the dry-run applied object", "apply as apply-patch+json",
    "force on a merge patch", "a merge patch with a 200-byte fieldManager", "apply in a missing namespace",
    "after the malformed applies", "apply a role", "apply a role's atomic rules as another manager",
    "apply a service", "apply another port of the service", "apply a port another manager owns",
    "apply a serviceaccount", "apply an atomic list item another manager owns",
    "apply without the fields it applied before", "apply a secret's stringData", "apply a secret's data",
    "apply without fieldManager", "apply of a YAML list", "apply of a JSON number", "apply of an empty body",
    "apply with another name", "apply of another kind", "apply without a kind", "apply of another version",
    "apply with a stale resourceVersion", "apply with managedFields", "apply with a 200-byte fieldManager",
    "apply with an unknown field", "apply with a wrong type", "apply with a bad fieldValidation",
)

_NO_CONTROLLER_MANAGER = ("no kube-controller-manager runs beside the real API server; on a full cluster it puts "
                          "the default ServiceAccount and kube-root-ca.crt in every namespace, as the emulator does")
MODE_DIFFERENCES = {
    "namespace right after delete": "the real API server first marks a deleted namespace Terminating (its "
                                    "namespace controller, in kube-controller-manager, then empties and removes "
                                    "it); the emulator removes it at once",
}
if apiserver.controller_manager() is None:     # kube-apiserver built, kube-controller-manager not
    MODE_DIFFERENCES.update({name: _NO_CONTROLLER_MANAGER for name in (
        "serviceaccount names in a new namespace", "list in the default namespace: serviceaccounts",
        "list in the default namespace: configmaps")})

# known emulator differences, by finding in the lab notes (contract-diffs.md), with the scenarios showing them
# (D1-D10 are fixed in the emulator)
_GAPS_BY_FINDING = {
    "D11 Table columns carry no description (upstream: the field's OpenAPI doc; kubectl never prints it)": (
        "table column descriptions app", "table column descriptions secrets",
        "table column descriptions probe-reviewer", "table column descriptions probe"),
}
EMULATOR_GAPS = {name: f"contract-diffs {finding}" for finding, names in _GAPS_BY_FINDING.items() for name in names}
TYPED_PATCH_500 = ("upstream answers an applied configuration its typed patch cannot hold (an unknown field, a wrong "
                   "type) with 500 and no reason; the emulator, which never answers 5xx, gives upstream's message "
                   "as a 400 BadRequest")
EMULATOR_GAPS.update({"apply with an unknown field": TYPED_PATCH_500, "apply with a wrong type": TYPED_PATCH_500})


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    if not apiserver.available():
        pytest.skip(f"real kube-apiserver not built in {apiserver.bin_dir()}: run `bash tools/k8s/build.sh`")
    base = tmp_path_factory.mktemp("differential")
    return {kube: run_lab(Settings.load(target="lab", lab_dir=str(base / kube), kube=kube))
            for kube in ("emulator", "apiserver")}


def _param(name: str):
    if name in EMULATOR_GAPS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=EMULATOR_GAPS[name]))
    return name


@pytest.mark.apiserver
def test_scenario_list_matches_the_probe(answers):
    assert sorted(answers["apiserver"]) == sorted(SCENARIOS)


@pytest.mark.apiserver
@pytest.mark.parametrize("scenario", [_param(name) for name in SCENARIOS if name not in MODE_DIFFERENCES])
def test_emulator_answers_like_the_real_api_server(answers, scenario):
    assert answers["emulator"][scenario] == answers["apiserver"][scenario]


@pytest.mark.apiserver
@pytest.mark.parametrize("scenario", sorted(MODE_DIFFERENCES))
def test_mode_differences_are_still_differences(answers, scenario):
    assert answers["emulator"][scenario] != answers["apiserver"][scenario], \
        f"no longer differs: drop {scenario!r} from MODE_DIFFERENCES"
