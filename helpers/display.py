"""How results look: every result object renders itself as HTML for people and as one stable
line of text for headless runs (papermill logs, nbval comparisons).

Only this module and diagrams.py import IPython or ipywidgets.
"""
from __future__ import annotations

import html
from typing import Any, Iterable

MASK = "•" * 8


def mask_secret(value: str | None, reveal: bool = False) -> str:
    """Hide a secret value but keep its length visible, so a learner can tell it is not empty."""
    if value is None:
        return "<none>"
    if reveal:
        return value
    return f"{MASK} ({len(value)} chars)"


def html_table(rows: Iterable[tuple[str, Any]], header: tuple[str, ...] | None = None) -> str:
    head = ""
    if header:
        head = "<tr>" + "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = []
    for row in rows:
        cells = row if isinstance(row, (tuple, list)) else (row,)
        body.append("<tr>" + "".join(
            f"<td style='text-align:left;vertical-align:top'><code>{html.escape(str(c))}</code></td>"
            if i else f"<td style='text-align:left;vertical-align:top'><b>{html.escape(str(c))}</b></td>"
            for i, c in enumerate(cells)) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


class Result:
    """Base of every result object.

    Subclasses implement `summary()` (one stable line, no timestamps or random ids, so nbval can
    compare it) and `rows()` (label/value pairs for the HTML table). `ok` drives the badge colour.
    """

    title: str = "result"
    ok: bool = True

    def summary(self) -> str:
        raise NotImplementedError

    def rows(self) -> list[tuple[str, Any]]:
        return []

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        badge = "✔" if self.ok else "✘"
        head = (f"<div style='border-left:4px solid {colour};padding:4px 8px'>"
                f"<b style='color:{colour}'>{badge} {html.escape(self.title)}</b>: "
                f"{html.escape(self.summary())}")
        rows = self.rows()
        return head + (html_table(rows) if rows else "") + "</div>"
