"""The Kubernetes emulator under attack, in a lab of its own: privilege escalation through RBAC writes and
impersonation, and hostile bodies and headers (tests/contract/guards_probe.py, the scenarios the contract
suite also runs against the real kube-apiserver). Every answer is the real server's status, never a 5xx."""
from __future__ import annotations

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from tests.contract.guards_probe import SCENARIOS, RawProbe, scenarios

# the real kube-apiserver's status for each scenario (and the emulator's, where EMULATOR_ONLY says otherwise)
EXPECTED = {
    "binder binds cluster-admin to itself": 403, "binder can still not read secrets": 403,
    "binder binds a role it does not hold": 403, "binder binds a missing clusterrole": 404,
    "namespace admin creates a */*/* role": 403, "namespace admin binds cluster-admin": 403,
    "namespace admin creates a role within its rights": 201, "namespace admin binds a clusterrole it holds": 201,
    "namespace admin binds a clusterrole it holds part of": 403,
    "roler creates a role naming secrets it cannot read": 403, "roler widens a role by update": 403,
    "roler updates a role it could not create, rules unchanged": 200, "escalator creates a */*/* role": 201,
    "delegate binds cluster-admin with bind": 201,
    "impersonate a serviceaccount (groups implied, not checked)": 201,
    "impersonate with an extra, not allowed": 403, "impersonate with an extra, allowed": 201,
    "impersonate with another extra key": 403, "impersonate a group without the right": 403,
    "impersonate a user without the right": 403,
    "json nested 10,001 deep": 400, "json nested 300 deep in data": 400,
    "json nested 300 deep in an unknown field": 400,       # the real server: 201 (see tests/contract/test_guards)
    "body over 3 MiB": 413, "gzip body": 400, "not gzip, declared gzip": 400, "yaml alias bomb": 400,
    "Infinity in a body": 400, "stringData with a lone surrogate": 201, "tokenreview of a lone surrogate": 201,
    "non-ASCII Authorization": 401, "bearer token with == appended": 401, "bearer token with !!== appended": 401,
    "bearer token with = appended": 401, "json patch with a non-ASCII digit": 422,
    "apply nested 10,001 deep": 400, "apply body over 3 MiB": 413, "apply yaml alias bomb": 400,
    "apply of binary garbage": 400, "apply declared gzip": 400, "nothing stored by the hostile applies": 404,
}


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    settings = Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("hostile") / "lab"), kube="emulator")
    info = lab_runtime.up(settings)
    try:
        yield scenarios(RawProbe(info.dir, info.kube_url))
    finally:
        lab_runtime.down(settings)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_status_is_the_real_servers(answers, scenario):
    assert answers[scenario][0] == EXPECTED[scenario], answers[scenario]


def test_every_scenario_is_expected_and_none_is_a_5xx(answers):
    assert set(answers) == set(SCENARIOS)
    statuses = {name: answer[0] for name, answer in answers.items() if isinstance(answer, (tuple, list))}
    assert not {name: code for name, code in statuses.items() if isinstance(code, int) and code >= 500}


def test_escalation_message_lists_what_is_not_held(answers):
    code, reason, message = answers["namespace admin binds cluster-admin"]
    assert message.endswith('is attempting to grant RBAC permissions not currently held:\n'
                            '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}')


def test_padded_and_garbage_signatures_do_not_authenticate(answers):
    for suffix in ("==", "!!==", "="):
        review = answers[f"tokenreview of a token with {suffix} appended"]
        assert review == {"user": {}, "error": "invalid bearer token"}


def test_lone_surrogates_decode_as_replacement_characters(answers):
    code, data = answers["stringData with a lone surrogate"]
    assert data == {"k": "Ye+/vWI="}        # base64 of "a\ufffdb": Go's decoding, not a 500
    assert answers["tokenreview of a lone surrogate"][1]["error"] == "invalid bearer token"


def test_impersonated_serviceaccount_gets_its_groups(answers):
    code, user = answers["impersonate a serviceaccount (groups implied, not checked)"]
    assert user["groups"] == ["system:serviceaccounts", "system:serviceaccounts:guards", "system:authenticated"]
    assert answers["impersonate with an extra, allowed"][1]["extra"] == {"scopes": ["read"]}
