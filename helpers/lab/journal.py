"""An append-only JSON-lines journal: how the lab's emulators persist state.

Every acknowledged write is appended and flushed to the OS before the HTTP response goes out,
so a SIGKILLed lab loses nothing. At start-up the journal is replayed, then compacted to a snapshot
of the live state so it does not grow without bound.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from .limits import MAX_DEPTH, json_depth

# a record wraps the object it stores in a few levels of its own
MAX_RECORD_DEPTH = MAX_DEPTH + 8


def _line(record: dict) -> str:
    """One record as a line the replay can read back, or ValueError: strict JSON, bounded depth."""
    line = json.dumps(record, separators=(",", ":"), allow_nan=False)
    if json_depth(line) > MAX_RECORD_DEPTH:
        raise ValueError(f"journal record nested deeper than {MAX_RECORD_DEPTH} levels")
    return line


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = None

    def replay(self) -> Iterator[dict]:
        """Yield every record; a torn last line (a kill mid-write) is skipped, never fatal, and so is a record
        too deep to handle (written before the lab bounded nesting): it would make every read of it fail."""
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                if json_depth(line) > MAX_RECORD_DEPTH:
                    continue
                try:
                    yield json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    continue

    def append(self, record: dict) -> None:
        line = _line(record)
        if self._fh is None:
            # the journals hold secrets and tokens: owner-only, like every credential file of the lab
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.chmod(self.path, 0o600)
            self._fh = os.fdopen(fd, "a", encoding="utf-8")
        self._fh.write(line + "\n")
        self._fh.flush()

    def compact(self, records: Iterable[dict]) -> None:
        """Replace the journal with `records` (the live state), atomically."""
        self.close()
        tmp = self.path.with_suffix(".tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(_line(record) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
