"""The lab's clock: real time plus an offset a chapter can move forward to expire a token, and set back
to real time when the chapter is done (so audit times stay readable).

The offset lives in a file under the lab directory, so every part of the lab process (and a restart)
agrees on what time it is. Only the lab has this; a real cluster's clock cannot be moved. The offset is
a finite number of seconds within MAX_OFFSET: NaN would make every token immortal, infinity every one
expired, and either would break every time format downstream.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

MAX_OFFSET = 100 * 365 * 24 * 3600.0        # a century: enough to expire anything, small enough to format


class ClockError(ValueError):
    """A move the lab clock refuses."""


def _checked(offset) -> float:
    if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not math.isfinite(offset):
        raise ClockError(f"the offset must be a finite number of seconds, not {offset!r}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ClockError(f"the lab clock moves forward by at most {MAX_OFFSET:.0f} s in all, not to {offset!r}")
    return float(offset)


class LabClock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0.0
        try:
            self.offset = _checked(json.loads(self.path.read_text()).get("offset_seconds", 0))
        except (OSError, ValueError, AttributeError):
            self.offset = 0.0       # no file, or one the lab did not write: real time

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds) -> float:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ClockError(f"advance_seconds must be a finite number of seconds, not {seconds!r}")
        if seconds < 0:
            raise ClockError("the lab clock only moves forward")
        offset = _checked(self.offset + seconds)
        self.path.write_text(json.dumps({"offset_seconds": offset}, allow_nan=False))
        self.offset = offset
        return self.offset

    def reset(self) -> None:
        self.offset = 0.0
        self.path.unlink(missing_ok=True)
