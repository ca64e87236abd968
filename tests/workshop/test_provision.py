"""`workshop up` gives each attendee their own names, files and identities; it is idempotent, and
`reset` puts one attendee back without touching the others."""
from __future__ import annotations

import ast
import json
import stat

import pytest
import yaml

from helpers import akeyless_client as ak
from helpers import workshop
from helpers.workshop import provision
from helpers.workshop import roster as rs
from helpers.workshop.isolation import attendee_cluster

from .conftest import ATTENDEES, helper_cli

CHAPTER = provision.CHAPTER


def _chapter_parameter_names() -> set[str]:
    """The names the chapter accepts: its parameters cell, and its Parameters class (the chapter takes every
    notebook variable named like one of its fields)."""
    nb = json.loads(CHAPTER.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    names = {t.id for node in ast.parse("".join(cell["source"])).body for t in node.targets}
    from helpers.chapters.kubernetes_auth import Parameters
    from dataclasses import fields
    return names | {f.name for f in fields(Parameters)}


def test_every_attendee_has_private_files(room):
    settings, _ = room
    for attendee in rs.require(settings.lab_dir).attendees:
        folder = rs.attendee_dir(settings.lab_dir, attendee)
        for name in ("kubeconfig", "parameters.yaml"):
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        params = yaml.safe_load((folder / "parameters.yaml").read_text())
        assert params["namespace"] == attendee.namespace and params["secret_path"].startswith(f"/{attendee.id}/")
        assert set(params) <= _chapter_parameter_names(), "a name the chapter would ignore (papermill -f)"
        prepared = json.loads((folder / CHAPTER.name).read_text())
        injected = [c for c in prepared["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert injected and f"namespace = \"{attendee.namespace}\"" in "".join(injected[0]["source"])
        assert not any(c.get("outputs") for c in prepared["cells"] if c["cell_type"] == "code")


def test_attendees_share_no_name(room):
    settings, _ = room
    params = [yaml.safe_load((rs.attendee_dir(settings.lab_dir, a) / "parameters.yaml").read_text())
              for a in rs.require(settings.lab_dir).attendees]
    shared_by_design = {"target", "kube", "kubeconfig", "context", "service_account", "audience", "k8s_secret",
                        "reviewer_service_account", "eso_namespace"}
    for key in set(params[0]) - shared_by_design:
        assert len({p[key] for p in params}) == ATTENDEES, f"{key} is shared between attendees"


def test_kubeconfig_acts_only_in_own_namespace(room):
    settings, _ = room
    a = rs.require(settings.lab_dir).attendees[0]
    mine = attendee_cluster(provision.connect(settings), a)
    assert mine.identity == f"kubeconfig user {a.id}"
    assert mine.can_i("create", "secrets", namespace=a.namespace).allowed
    assert mine.can_i("create", "serviceaccounts", namespace=a.namespace, subresource="token").allowed
    assert not mine.can_i("get", "secrets", namespace=a.reviewer_namespace).allowed
    assert not mine.can_i("create", "namespaces").allowed
    assert not mine.can_i("list", "secrets").allowed, "cluster-wide Secret listing"


def test_up_is_idempotent(room):
    settings, conn = room
    before = {a.id: provision.access_id(conn, a) for a in rs.require(settings.lab_dir).attendees}
    again = workshop.up(settings, ATTENDEES)
    assert {row[2] for row in again.rows()} == {"existed"}
    after = {a.id: provision.access_id(conn, a) for a in rs.require(settings.lab_dir).attendees}
    assert before == after


def test_reset_touches_no_one_else(at_start):
    settings, conn = at_start
    first, second, third = rs.require(settings.lab_dir).attendees
    others = {a.id: (provision.access_id(conn, a),
                     conn.cluster.core.read_namespaced_service_account(rs.WORKLOAD_SA, a.namespace).metadata.uid)
              for a in (first, third)}
    conn.cluster.write_secret(second.namespace, "app-db-secret", {"password": "x"})
    conn.cluster.write_secret(first.namespace, "app-db-secret", {"password": "y"})
    result = helper_cli(settings, "workshop", "reset", "2")
    assert result.returncode == 0, result.stderr
    assert f"{second.id} is back at the start" in result.stdout
    assert conn.cluster.list_secrets(second.namespace).items == ()
    assert conn.cluster.read_secret(first.namespace, "app-db-secret").value("password") == "y"
    assert {a.id: (provision.access_id(conn, a),
                   conn.cluster.core.read_namespaced_service_account(rs.WORKLOAD_SA, a.namespace).metadata.uid)
            for a in (first, third)} == others
    conn.cluster.delete_secret(first.namespace, "app-db-secret")


def test_reset_of_a_stranger_says_who_is_here(room):
    settings, _ = room
    result = helper_cli(settings, "workshop", "reset", "ws-99")
    assert result.returncode == 2
    assert "no attendee 'ws-99'" in result.stderr and "ws-01, ws-02, ws-03" in result.stderr
    assert "Traceback" not in result.stderr


def test_prefix_must_make_a_namespace(room):
    settings, _ = room
    result = helper_cli(settings, "workshop", "up", "--attendees", "2", "--prefix", "Bad_Prefix")
    assert result.returncode == 2 and "cannot start a namespace name" in result.stderr


def test_the_lab_refuses_to_move_a_shared_clock(room):
    from helpers import lab
    from helpers.errors import LabOnly
    settings, _ = room
    with pytest.raises(LabOnly, match="workshop room of 3 attendees"):
        lab.advance_clock(700, settings)


def test_admin_sees_every_attendee_item(room):
    settings, conn = room
    for attendee in rs.require(settings.lab_dir).attendees:
        assert ak.get_role(conn.akeyless, attendee.role).associations[0][1]["namespace"] == [attendee.namespace]
