"""Workshop delivery: one lab or cluster for a room of attendees, each isolated, and the instructor's board.

`provision` makes and removes the room, `isolation` tries what one attendee could do to another,
`progress` reads where each attendee is from the lab's own records.
"""
from .provision import down, reset, up
from .room import Room
from .roster import Attendee, Roster

__all__ = ["Attendee", "Room", "Roster", "down", "reset", "up"]
