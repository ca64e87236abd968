"""Where each attendee is, read from the lab's own records: the Akeyless audit log (every request, who,
allowed or refused and why), the TokenReviews the gateway sent, and the cluster's objects.

A refusal an attendee meets is theirs to learn from: one the chapter reproduces on purpose (the outsider,
least privilege, the failure scenarios) is shown as such; any other is shown with its exact text, as
where they may want a hand, never as an alarm about the room.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .. import akeyless_client as ak
from ..display import Result
from ..errors import ClusterError, LabOnly
from . import roster as rs
from .provision import Connections
from .steps import STEPS, Step
from .roster import Attendee

FETCH_LIMIT = 20000         # the lab keeps this many audit entries
# The chapter's own delete-before-create answers 404 when there was nothing to delete: not a failure.
_HOUSEKEEPING = ("delete-", "gateway-delete-")


@dataclass
class Met:
    """One refusal an attendee met: when, at which step, the gateway's exact words, and whether the
    chapter reproduces it on purpose there."""

    ts: float
    step: str
    command: str
    path: str
    error: str
    reproduced: bool

    def line(self) -> str:
        kind = "reproduced in the chapter" if self.reproduced else "met"
        return f"{self.command} {self.path}: {self.error} ({kind}, at step {self.step})"


@dataclass
class AttendeeProgress:
    attendee: Attendee
    reached: int                        # index into STEPS, -1 = at the start
    last_activity: float | None
    met: list = field(default_factory=list)
    reviews: int = 0
    reviews_failed: int = 0
    secret_in_cluster: bool | None = None

    @property
    def step(self) -> Step | None:
        return STEPS[self.reached] if self.reached >= 0 else None

    @property
    def step_label(self) -> str:
        return f"{self.reached + 1}/{len(STEPS)} {self.step.label}" if self.step else f"0/{len(STEPS)} at the start"

    @property
    def unexpected(self) -> list:
        return [m for m in self.met if not m.reproduced]

    @property
    def status(self) -> str:
        if self.reached == len(STEPS) - 1:
            return "finished"
        last = self.met[-1] if self.met else None
        if last and not last.reproduced and last.ts >= (self.last_activity or 0):
            return "may need a hand"      # their latest request was refused, and not by the chapter's design
        return "not started" if self.step is None else "working"

    def row(self, now: float) -> tuple:
        idle = f"{int(now - self.last_activity)} s ago" if self.last_activity else "-"
        last = self.unexpected[-1].line() if self.unexpected else "-"
        reproduced = sum(m.reproduced for m in self.met)
        secret = {True: "yes", False: "no", None: "?"}[self.secret_in_cluster]
        return (self.attendee.id, self.step_label, self.status, idle, reproduced, len(self.unexpected), last,
                f"{self.reviews} ({self.reviews_failed} refused)", secret)


HEADER = ("attendee", "step", "status", "last activity", "failures reproduced", "other errors met",
          "last error met (exact text)", "TokenReviews", "k8s Secret synced")


@dataclass
class Board(Result):
    """The room at one moment: one row per attendee, and how many stand at each step."""

    prefix: str
    progress: list
    taken_at: float
    blind: str = ""             # why a record could not be read, when one could not

    title = "the room"

    def summary(self) -> str:
        finished = sum(p.status == "finished" for p in self.progress)
        helping = sum(p.status == "may need a hand" for p in self.progress)
        return (f"workshop {self.prefix}: {len(self.progress)} attendees, {finished} finished, "
                f"{helping} may need a hand" + (f" ({self.blind})" if self.blind else ""))

    def rows(self):
        return [p.row(self.taken_at) for p in self.progress]

    header = HEADER

    def histogram(self) -> list[tuple[str, int]]:
        """How many attendees stand at each step (the start first)."""
        counts = [("at the start", sum(p.reached < 0 for p in self.progress))]
        return counts + [(s.label, sum(p.reached == i for p in self.progress)) for i, s in enumerate(STEPS)]

    def of(self, attendee_id: str) -> AttendeeProgress:
        return next(p for p in self.progress if p.attendee.id == attendee_id)

    def as_text(self) -> str:
        rows = [HEADER] + [tuple(str(c) for c in r) for r in self.rows()]
        widths = [min(max(len(r[i]) for r in rows), 60) for i in range(len(HEADER))]
        lines = [self.summary(), ""]
        for r in rows:
            lines.append("  ".join(c[:w].ljust(w) for c, w in zip(r, widths)).rstrip())
        lines += ["", "room by step:"]
        lines += [f"  {label:<24} {'#' * n}{' ' + str(n) if n else ''}" for label, n in self.histogram()]
        for p in self.progress:
            for m in p.unexpected[-3:]:
                lines.append(f"{p.attendee.id}: {m.line()}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from ..display import board_html
        return board_html(self)


def _belongs(a: Attendee, entry: dict) -> bool:
    return a.owns_path(entry.get("path", "")) or a.owns_path(entry.get("auth_method", ""))


def _housekeeping(entry: dict) -> bool:
    return entry.get("command", "").startswith(_HOUSEKEEPING) and entry.get("status") == 404


def attendee_progress(a: Attendee, entries: list, reviews: list, started: float,
                      quiet=lambda ts: False) -> AttendeeProgress:
    """One attendee's progress from the audit entries and TokenReviews since they (re)started."""
    mine = [e for e in entries if e.get("ts", 0) >= started and _belongs(a, e) and not quiet(e.get("ts", 0))]
    last_on_path = {e.get("path"): i for i, e in enumerate(mine)}
    reached, met = -1, []
    for i, entry in enumerate(mine):
        for index, step in enumerate(STEPS):
            if step.reached_by(a, entry) and (not step.last_on_path or last_on_path[entry.get("path")] == i):
                reached = max(reached, index)
        if not entry.get("allowed") and not _housekeeping(entry):
            here = STEPS[reached] if reached >= 0 else None
            expected = bool(here and here.demonstrates_failures)
            met.append(Met(entry["ts"], here.label if here else "start", entry.get("command", ""),
                           entry.get("path", ""), entry.get("reason", ""), expected))
    own_reviews = [r for r in reviews if r.get("ts", 0) >= started and a.owns_path(r.get("config_name", ""))
                   and not quiet(r.get("ts", 0))]
    return AttendeeProgress(a, reached, mine[-1]["ts"] if mine else None, met, len(own_reviews),
                            sum(bool(r.get("error")) for r in own_reviews))


def board(conn: Connections) -> Board:
    """Read the room now. Two lab-only reads (audit log, TokenReviews) and one Secret read per attendee."""
    room = rs.require(conn.settings.lab_dir)
    since = min(room.started.values()) if room.started else 0
    try:
        entries = ak.audit_log(conn.akeyless, limit=FETCH_LIMIT, since=since).entries
        reviews = ak.token_reviews(conn.akeyless, limit=FETCH_LIMIT, since=since).entries
        blind = ""
    except LabOnly:      # a real gateway keeps its audit log in the Akeyless console, out of our reach
        entries, reviews = [], []
        blind = "this gateway's audit log is not readable here (lab only): steps come from the cluster alone"
    progress = []
    for a in room.attendees:
        p = attendee_progress(a, entries, reviews, room.started[a.id], room.in_quiet)
        try:
            conn.cluster.read_secret(a.namespace, "app-db-secret")
            p.secret_in_cluster = True
        except ClusterError as exc:
            p.secret_in_cluster = False if exc.status == 404 else None
        progress.append(p)
    return Board(room.prefix, progress, time.time(), blind)
