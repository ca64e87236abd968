"""Three attendees run chapter 2 at the same time against one lab, each with their own parameters file;
the board shows each at the last step, and after a `reset` the reset attendee at the start."""
from __future__ import annotations

import json

from helpers.workshop import progress, provision
from helpers.workshop import roster as rs
from helpers.workshop.steps import LAST, STEPS

from .conftest import helper_cli, papermill


def test_three_concurrent_chapter_runs_pass_and_the_board_follows(at_start, tmp_path):
    settings, conn = at_start
    room = rs.require(settings.lab_dir).attendees
    runs = {a.id: papermill(provision.CHAPTER, tmp_path / f"{a.id}.ipynb", settings,
                            rs.attendee_dir(settings.lab_dir, a) / "parameters.yaml") for a in room}
    logs = {name: run.communicate(timeout=900)[0] for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, f"{name}:\n{logs[name][-3000:]}"
        executed = json.loads((tmp_path / f"{name}.ipynb").read_text())
        outputs = json.dumps([c.get("outputs", []) for c in executed["cells"] if c["cell_type"] == "code"])
        assert '"output_type": "error"' not in outputs
        assert f"/{name}/app/db-password" in outputs and "/demo/app" not in outputs
        assert "expiry: not run on this lab (a workshop room of 3 attendees shares this lab" in outputs

    board = progress.board(conn)
    for a in room:
        p = board.of(a.id)
        assert p.step.id == LAST, (a.id, p.step_label, board.as_text())
        assert p.status == "finished"
        assert not p.unexpected, [m.line() for m in p.unexpected]
        assert sum(m.reproduced for m in p.met) >= 8        # the outsider, least privilege and the failure demos
        assert p.reviews_failed >= 5 and p.reviews > p.reviews_failed

    text = helper_cli(settings, "workshop", "status").stdout
    assert text.startswith("workshop ws: 3 attendees, 3 finished, 0 may need a hand"), text
    assert f"  {STEPS[-1].label:<24} ### 3" in text

    reset = helper_cli(settings, "workshop", "reset", room[1].id)
    assert reset.returncode == 0, reset.stderr
    board = progress.board(conn)
    assert board.of(room[1].id).reached == -1 and board.of(room[1].id).status == "not started"
    assert [board.of(a.id).step.id for a in (room[0], room[2])] == [LAST, LAST]


def test_an_error_outside_the_demonstrations_is_shown_as_met(at_start):
    """A learner who points ESO at a config name that does not exist before the failure section: the board
    shows the gateway's words against their name, as theirs to fix, not as a reproduced failure."""
    settings, conn = at_start
    a = rs.require(settings.lab_dir).attendees[0]
    from helpers import eso
    jwt = conn.cluster.request_token(a.namespace, rs.WORKLOAD_SA, audiences=["akeyless"]).raise_for_error().token
    answer = eso.authenticate(conn.akeyless.url, eso.auth_body(provision.access_id(conn, a), a.k8s_conf_name + "x",
                                                               jwt), open(conn.akeyless.ca_cert).read())
    assert not answer.ok
    p = progress.board(conn).of(a.id)
    assert p.status == "may need a hand"
    assert f"k8s auth config '{a.k8s_conf_name}x' not found" in p.unexpected[-1].error
    assert "(met, at step start)" in p.unexpected[-1].line()


def test_a_gateway_without_the_lab_logs_leaves_the_cluster_view(room, monkeypatch):
    """A real gateway answers 404 on /lab-only/*: the board says it cannot see the steps, and still shows
    the cluster's objects rather than failing."""
    settings, conn = room
    from helpers import akeyless_client as ak
    from helpers.errors import LabOnly

    def real_gateway(*_args, **_kwargs):
        raise LabOnly("/lab-only/audit-log does not exist on this gateway: it is a lab-only endpoint")

    monkeypatch.setattr(ak, "audit_log", real_gateway)
    board = progress.board(conn)
    assert "audit log is not readable here (lab only)" in board.summary()
    assert {p.secret_in_cluster for p in board.progress} <= {True, False}
