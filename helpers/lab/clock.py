"""The lab's clock: real time plus an offset a chapter can move forward to expire a token, and set back
to real time when the chapter is done (so audit times stay readable).

The offset lives in a file under the lab directory, so every part of the lab process (and a restart)
agrees on what time it is. Only the lab has this; a real cluster's clock cannot be moved.
"""
from __future__ import annotations

import json
import time
from pathlib import Path


class LabClock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.offset = 0.0
        if self.path.exists():
            self.offset = float(json.loads(self.path.read_text()).get("offset_seconds", 0))

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the lab clock only moves forward")
        self.offset += float(seconds)
        self.path.write_text(json.dumps({"offset_seconds": self.offset}))
        return self.offset

    def reset(self) -> None:
        self.offset = 0.0
        self.path.unlink(missing_ok=True)
