"""Reading progress from audit entries shaped as the lab records them (no lab needed)."""
from __future__ import annotations

from helpers.workshop.progress import attendee_progress
from helpers.workshop.roster import Attendee
from helpers.workshop.steps import STEPS

A = Attendee.of("ws", 1)
ADMIN = "/lab/admin-api-key"


def entry(ts, command, path, allowed=True, by=ADMIN, reason="", status=None):
    return {"ts": ts, "command": command, "path": path, "auth_method": by, "allowed": allowed,
            "status": status or (200 if allowed else 401), "reason": reason}


def test_a_recreate_delete_is_not_the_cleanup():
    entries = [entry(1, "create-secret", A.secret_path),
               entry(2, "delete-auth-method", A.auth_method), entry(3, "create-auth-method-k8s", A.auth_method)]
    p = attendee_progress(A, entries, [], started=0)
    assert p.step.id == "auth-method" and p.status == "working"


def test_the_final_delete_is_the_cleanup():
    entries = [entry(1, "create-auth-method-k8s", A.auth_method), entry(2, "delete-auth-method", A.auth_method)]
    assert attendee_progress(A, entries, [], started=0).step.id == STEPS[-1].id


def test_records_before_the_start_and_other_attendees_do_not_count():
    other = Attendee.of("ws", 2)
    entries = [entry(1, "create-secret", A.secret_path), entry(5, "create-secret", other.secret_path)]
    p = attendee_progress(A, entries, [], started=2)
    assert p.reached == -1 and p.last_activity is None


def test_demonstrated_refusals_are_reproduced_and_others_are_met():
    entries = [entry(1, "create-secret", A.secret_path),
               entry(2, "get-secret-value", A.secret_path, allowed=False, by=A.other_team_auth_method,
                     reason="no access role is associated with this auth method"),
               entry(3, "get-secret-value", A.secret_path, by=A.api_key_auth_method),
               entry(4, "auth", "p-x", allowed=False, by=A.auth_method,
                     reason="k8s auth config 'ws-01-confx' not found on this gateway")]
    p = attendee_progress(A, entries, [], started=0)
    assert [m.reproduced for m in p.met] == [True, False]
    assert p.status == "may need a hand"
    assert "k8s auth config 'ws-01-confx' not found" in p.unexpected[0].line()


def test_a_404_on_delete_before_create_is_housekeeping():
    entries = [entry(1, "delete-item", A.secret_path, allowed=False, status=404),
               entry(2, "create-secret", A.secret_path)]
    assert attendee_progress(A, entries, [], started=0).met == []


def test_quiet_windows_are_left_out():
    entries = [entry(1, "create-secret", A.secret_path)]
    assert attendee_progress(A, entries, [], started=0, quiet=lambda ts: ts == 1).reached == -1
