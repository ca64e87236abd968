"""Watch: every change the store makes, kept in a window as the API server's watch cache keeps it, and
streamed to each watcher as ADDED/MODIFIED/DELETED events (and BOOKMARKs when asked) from the resourceVersion
it names.

A watch from "" or "0" starts with an ADDED event per current object. One from an older resourceVersion
replays the window from there; once the window has moved past it, the answer is upstream's 410 Expired
("too old resource version"), sent as an ERROR event. Each watcher waits on its own queue, so a watch never
blocks the lab's other requests.
"""
from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass

from . import status
from .options import META
from .status import FieldError

CAPACITY = 1000             # events kept; the API server's watch cache keeps a window of the same order
BOOKMARK_EVERY = 60.0       # seconds between bookmarks, as the API server sends them
MIN_REQUEST_TIMEOUT = 1800  # --min-request-timeout: a watch without timeoutSeconds lasts 1-2x this


@dataclass
class Change:
    rv: int
    type: str           # ADDED | MODIFIED | DELETED
    key: tuple          # the store key: group, plural, namespace, name
    obj: dict
    old: dict | None = None


class Expired(Exception):
    def __init__(self, asked: int, oldest: int):
        self.status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": f"too old resource version: {asked} ({oldest})", "reason": "Expired",
                       "code": 410}


class WatchHub:
    """The window of recent changes, and the queues of the open watches."""

    def __init__(self, current_rv: int, capacity: int = CAPACITY):
        self.changes: deque[Change] = deque(maxlen=capacity)
        self.oldest = current_rv       # changes after this resourceVersion are all in the window
        self.truncated = False
        self.queues: set[asyncio.Queue] = set()

    def record(self, change: Change) -> None:
        if len(self.changes) == self.changes.maxlen:
            self.oldest = self.changes[0].rv
            self.truncated = True
        self.changes.append(change)
        for queue in self.queues:
            queue.put_nowait(change)

    def since(self, rv: int) -> list[Change] | None:
        """The changes after `rv`; None when `rv` predates the window but nothing has left it yet (the
        watch then starts from the current state, as the watch cache starts from its initial list)."""
        if rv < self.oldest:
            if self.truncated:
                raise Expired(rv, self.oldest)
            return None
        return [c for c in self.changes if c.rv > rv]

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self.queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self.queues.discard(queue)


@dataclass
class WatchOptions:
    resource_version: str
    timeout: float
    bookmarks: bool
    initial_events: bool | None


def _list_options_invalid(errors: list[FieldError]) -> status.ApiError:
    return status.invalid("ListOptions", META, "", errors)


def parse(query) -> WatchOptions:
    """ListOptions for a watch, checked with the API server's messages."""
    rv = query.get("resourceVersion", "")
    if rv and not rv.isdigit():
        # upstream answers this one with a bare 500 (no reason): the storage layer's parse error
        raise status.ApiError(500, "", f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing '
                              f'"{rv}": invalid syntax')
    initial = query.get("sendInitialEvents")
    initial_events = None if initial is None else initial == "true"
    match = query.get("resourceVersionMatch", "")
    errors = []
    if match and initial_events is None:
        errors.append(FieldError("resourceVersionMatch", "FieldValueForbidden",
                                 detail="resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                                        "provided"))
    if match and match != "NotOlderThan":
        errors.append(FieldError("resourceVersionMatch", "FieldValueNotSupported", match,
                                 'supported values: "NotOlderThan"'))
    if initial_events is not None and match != "NotOlderThan" and not errors:
        errors.append(FieldError("resourceVersionMatch", "FieldValueForbidden",
                                 detail="sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
    if errors:
        raise _list_options_invalid(errors)
    raw_timeout = query.get("timeoutSeconds", "")
    timeout = int(raw_timeout) if raw_timeout.isdigit() and int(raw_timeout) > 0 else \
        MIN_REQUEST_TIMEOUT * (1 + random.random())       # unparsable values are ignored upstream too
    return WatchOptions(rv, float(timeout), query.get("allowWatchBookmarks") == "true", initial_events)


def next_bookmark(now: float, deadline: float) -> float:
    """The cache watcher's schedule: a bookmark every minute, or 2 s before the watch times out, whichever
    comes first; none once that moment has passed (then the deadline itself is returned)."""
    at = min(now + BOOKMARK_EVERY, deadline - 2)
    return at if at > now else deadline


def bookmark(kind: str, api_version: str, rv: int, initial_end: bool = False) -> dict:
    meta = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind, "apiVersion": api_version, "metadata": meta}


