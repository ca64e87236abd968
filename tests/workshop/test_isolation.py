"""Attendee A tries, the way an attacker would, to reach attendee B: each attempt is refused by the
API server's RBAC or by the gateway, with the error the real thing gives."""
from __future__ import annotations

import subprocess

import pytest

from helpers.workshop import isolation
from helpers.workshop import roster as rs

from .conftest import helper_cli

# what each refusal must say: the kube-apiserver's RBAC denial, or the gateway's sub-claims / bound-namespace check
EXPECTED = {
    "read Secret": ('403 Forbidden', 'User "system:serviceaccount:{a}:attendee" cannot get resource "secrets" '
                                     'in API group "" in the namespace "{b}"'),
    "list Secrets": ('403 Forbidden', 'cannot list resource "secrets" in API group "" in the namespace "{b}"'),
    "mint a token for {b}/": ('403 Forbidden', 'cannot create resource "serviceaccounts/token" in API group "" '
                                              'in the namespace "{b}"'),
    "mint a token for B's reviewer": ('403 Forbidden', 'in the namespace "{b}-gateway"'),
    "create a TokenReview": ('403 Forbidden', 'cannot create resource "tokenreviews" in API group '
                                             '"authentication.k8s.io" at the cluster scope'),
    "bind itself": ('403 Forbidden', 'in API group "rbac.authorization.k8s.io" at the cluster scope'),
    "read B's secret": ("HTTP 401", "UnauthorizedAccess"),
    "log in to B's auth method": ("namespace {a} is not in the auth method's bound-namespaces [{b}]", ""),
    "SecretStore in": ("authentication failed", "namespace {a} is not in the auth method's bound-namespaces [{b}]"),
}


@pytest.fixture
def pair(at_start):
    settings, conn = at_start
    a, b = rs.require(settings.lab_dir).attendees[:2]
    conn.cluster.write_secret(b.namespace, "app-db-secret", {"password": "b-only"})
    yield conn, a, b
    conn.cluster.delete_secret(b.namespace, "app-db-secret")


def test_every_attempt_is_refused_with_the_real_error(pair):
    conn, a, b = pair
    result = isolation.attempts(conn, a, b)
    assert len(result.attempts) == len(EXPECTED)
    for attempt in result.attempts:
        key = next(k for k in EXPECTED if attempt.what.startswith(k.format(a=a.id, b=b.id)))
        assert attempt.refused, attempt.summary()
        for fragment in EXPECTED[key]:
            assert fragment.format(a=a.id, b=b.id) in attempt.error, attempt.summary()
        assert "b-only" not in attempt.error


def test_own_namespace_works_with_the_same_identity(pair):
    """The refusals above are RBAC and sub-claims, not a broken kubeconfig: A's own objects answer."""
    conn, a, _ = pair
    mine = isolation.attendee_cluster(conn, a)
    mine.write_secret(a.namespace, "scratch", {"k": "v"})
    assert mine.read_secret(a.namespace, "scratch").value("k") == "v"
    mine.delete_secret(a.namespace, "scratch")
    token = isolation.own_akeyless_token(conn, a)
    from helpers import akeyless_client as ak
    assert ak.get_secret_value(token, a.secret_path).value


@pytest.mark.kubectl
def test_kubectl_with_a_kubeconfig_is_refused_next_door(pair, kubectl):
    conn, a, b = pair
    config = rs.attendee_dir(conn.settings.lab_dir, a) / "kubeconfig"
    run = subprocess.run([kubectl, "--kubeconfig", str(config), "get", "secret", "app-db-secret", "-n", b.namespace],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert (f'Error from server (Forbidden): secrets "app-db-secret" is forbidden: User '
            f'"system:serviceaccount:{a.id}:attendee" cannot get resource "secrets" in API group "" in the '
            f'namespace "{b.namespace}"') in run.stderr
    run = subprocess.run([kubectl, "--kubeconfig", str(config), "create", "token", rs.WORKLOAD_SA, "-n", b.namespace],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "cannot create resource \"serviceaccounts/token\"" in run.stderr


def test_check_rings_the_room_and_stays_off_the_board(at_start):
    settings, _ = at_start
    result = helper_cli(settings, "workshop", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("27 of 27 cross-attendee attempts refused")
    board = helper_cli(settings, "workshop", "status")
    assert "0 may need a hand" in board.stdout.splitlines()[0], board.stdout
