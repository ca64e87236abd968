"""The instructor's handle on the room, one method per cell of the instructor's notebook."""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..display import Note, Result
from . import isolation, progress, provision
from . import roster as rs


@dataclass
class Room:
    settings: Settings
    _conn: provision.Connections | None = None

    @classmethod
    def open(cls, target: str = "lab", kubeconfig: str = "", context: str = "") -> "Room":
        return cls(Settings.load(target=target, kubeconfig=kubeconfig or None, context=context or None))

    @property
    def conn(self) -> provision.Connections:
        if self._conn is None:
            self._conn = provision.connect(self.settings)
        return self._conn

    @property
    def roster(self) -> rs.Roster | None:
        return rs.load(self.settings.lab_dir)

    def summary(self) -> Note:
        roster = self.roster
        if roster is None:
            return Note(f"no workshop is provisioned in {self.settings.lab_dir}",
                        [("to start one", "python -m helpers workshop up --attendees N")], title="the room")
        conn = self.conn
        stack = (f"embedded lab ({conn.lab.kube_mode} Kubernetes API)" if conn.lab is not None and
                 self.settings.is_lab else f"cluster {conn.cluster.server}")
        rows = [("attendees", ", ".join(a.id for a in roster.attendees)), ("stack", stack),
                ("Akeyless gateway", conn.akeyless.url),
                ("attendee files", str(rs.workshop_dir(self.settings.lab_dir)) + "/<attendee>/")]
        return Note(f"workshop {roster.prefix}: {len(roster.attendees)} attendees on the {stack}", rows,
                    title="the room")

    def board(self) -> Result:
        if self.roster is None:
            return self.summary()
        return progress.board(self.conn)

    def live(self, interval: float = 10.0):
        if self.roster is None:
            return self.summary()
        from ..display import live_board
        return live_board(self.board, interval)

    def errors_met(self) -> Note:
        """Every refusal each attendee met, newest last, with the gateway's exact words."""
        board = self.board()
        if not isinstance(board, progress.Board):
            return board
        rows = [(p.attendee.id, m.line()) for p in board.progress for m in p.met]
        reproduced = sum(m.reproduced for p in board.progress for m in p.met)
        return Note(f"{len(rows)} refusals met in the room, {reproduced} of them reproduced by the chapter on purpose",
                    rows, ("attendee", "what they met"), title="errors met")

    def isolation(self) -> Result:
        roster = self.roster
        if roster is None or len(roster.attendees) < 2:
            return Note("isolation needs a room of at least two attendees",
                        [("to provision", "python -m helpers workshop up --attendees 2")], title="isolation")
        return isolation.check(self.conn)
