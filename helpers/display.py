"""How results look: every result object renders itself as HTML for people and as one stable
line of text for headless runs (papermill logs, nbval comparisons).

Only this module and diagrams.py import IPython or ipywidgets.
"""
from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

MASK = "•" * 8


def mask_secret(value: str | None, reveal: bool = False) -> str:
    """Hide a secret value but keep its length visible, so a learner can tell it is not empty."""
    if value is None:
        return "<none>"
    if reveal:
        return value
    return f"{MASK} ({len(value)} chars)"


# A run of this many characters with no space is a token, a key or base64. In a table cell it must be
# allowed to break anywhere, or the column (and the output) grows as wide as the token; only the run
# itself gets that, so the words around it still wrap at their spaces. Outside tables
# overflow-wrap:break-word is enough: a word moves to the next line whole, and breaks only if longer.
LONG_RUN = re.compile(r"\S{64,}")
CELL = "text-align:left;vertical-align:top"
# Only properties (and values) JupyterLab's sanitizer keeps, so untrusted outputs wrap the same way.
WRAP = "white-space:pre-wrap;overflow-wrap:break-word"
BREAK_ANYWHERE = "word-break:break-all"


def readable_json(text: str) -> str | None:
    """A JSON object or array given as text, indented and with its characters rather than \\u escapes
    (a masked value is "••••", not "\\u2022\\u2022"); None when the text is not one."""
    stripped = text.strip()
    if not stripped[:1] in ("{", "["):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return json.dumps(value, indent=1, ensure_ascii=False)


def breakable(text: str) -> str:
    """Escaped text whose long runs (tokens) may break anywhere; everything else breaks at spaces."""
    out, last = [], 0
    for match in LONG_RUN.finditer(text):
        out += [html.escape(text[last:match.start()]),
                f"<span style='{BREAK_ANYWHERE}'>{html.escape(match.group(0))}</span>"]
        last = match.end()
    return "".join(out) + html.escape(text[last:])


def value_html(value: Any) -> str:
    """One table value as HTML that fits the page: JSON indented, long tokens broken anywhere,
    sentences as prose, other values as code."""
    text = value if isinstance(value, str) else str(value)
    pretty = readable_json(text) if isinstance(value, str) else None
    if pretty is not None or "\n" in text:
        return f"<pre style='{WRAP};margin:0'>{breakable(pretty or text)}</pre>"
    if len(text.split()) >= 4:      # a sentence (an explanation): prose, not code
        return f"<span style='{WRAP}'>{breakable(text)}</span>"
    return f"<code style='{WRAP}'>{breakable(text)}</code>"


def _label_wrap(label: str) -> str:
    # Short labels stay on one line (a squeezed column would split "signing-key" at its hyphen).
    return "white-space:nowrap" if len(label) <= 32 else WRAP


def html_table(rows: Iterable[tuple[str, Any]], header: tuple[str, ...] | None = None) -> str:
    """A table of label/value rows (or wider rows). Every table gets a header row: `header`, or
    field/value (then detail columns) when the caller gives none."""
    rows = [row if isinstance(row, (tuple, list)) else (row,) for row in rows]
    width = max((len(row) for row in rows), default=2)
    if not header:
        header = ("field", "value", *(f"detail {n}" if width > 3 else "detail" for n in range(1, width - 1)))[:width]
    head = "<tr>" + "".join(f"<th style='{CELL}'>{html.escape(h)}</th>" for h in header) + "</tr>"
    body = []
    for cells in rows:
        body.append("<tr>" + "".join(
            f"<td style='{CELL}'>{value_html(c)}</td>" if i
            else f"<td style='{CELL};{_label_wrap(str(c))}'><b>{html.escape(str(c))}</b></td>"
            for i, c in enumerate(cells)) + "</tr>")
    return f"<table style='max-width:100%'>{head}{''.join(body)}</table>"


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

    def plain_text(self) -> str:
        return self.summary()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        # Jupyter takes text/plain from here rather than from __repr__, which @dataclass subclasses
        # replace with a dump of every field
        return {"text/plain": self.plain_text(), "text/html": self._repr_html_()}

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        badge = "✔" if self.ok else "✘"
        head = (f"<div style='border-left:4px solid {colour};padding:4px 8px'>"
                f"<b style='color:{colour}'>{badge} {html.escape(self.title)}</b>: "
                f"{html.escape(self.summary())}")
        rows = self.rows()
        return head + (html_table(rows) if rows else "") + "</div>"


@dataclass
class Note(Result):
    """A short statement with a table, for steps whose output is an explanation."""

    text: str
    table: list = field(default_factory=list)
    header: tuple | None = None
    title: str = "note"
    ok: bool = True

    def summary(self) -> str:
        return self.text

    def rows(self):
        return self.table

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        return (f"<div style='border-left:4px solid {colour};padding:4px 8px'><b>{html.escape(self.title)}</b>: "
                f"{html.escape(self.text)}{html_table(self.table, self.header) if self.table else ''}</div>")


# -- failures --------------------------------------------------------------------------------------

class Failure(Result):
    """A caught error, shown as the learner should read it: what failed, the exact message (the
    string people search for), and the hint that names the fix."""

    title = "failed"
    ok = False

    def __init__(self, error: Any):
        self.error = error
        self.kind = type(error).__name__
        self.message, self.hint, self.status = _failure_parts(error)

    def summary(self) -> str:
        status = f" ({self.status})" if self.status not in (None, "") else ""
        return f"{self.kind}{status}: {_first_line(self.message)}"

    def rows(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("error", self.kind)]
        if self.status not in (None, ""):
            rows.append(("status", self.status))
        rows.append(("message", self.message))
        if self.hint:
            rows.append(("what to do", self.hint))
        return rows

    def __repr__(self) -> str:
        return self.summary() + (f"\n  hint: {self.hint}" if self.hint else "")

    def plain_text(self) -> str:
        return repr(self)

    def _repr_html_(self) -> str:
        hint = (f"<div style='margin-top:4px'>💡 <b>What to do:</b> {html.escape(self.hint)}</div>"
                if self.hint else "")
        status = f" <span style='color:#555'>({html.escape(str(self.status))})</span>" if self.status else ""
        return (f"<div style='border-left:4px solid #c62828;background:#ffebee;padding:6px 10px'>"
                f"<b style='color:#c62828'>✘ {html.escape(self.kind)}</b>{status}"
                f"<pre style='{WRAP};margin:4px 0;background:none'>{html.escape(self.message)}</pre>"
                f"{hint}</div>")


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else "(no message)"


def _failure_parts(error: Any) -> tuple[str, str, Any]:
    """(message, hint, status) of an exception, a failed Result, or anything carrying an error."""
    if isinstance(error, Result):
        inner = getattr(error, "error", None)
        if isinstance(inner, BaseException):
            message, hint, status = _failure_parts(inner)
        else:
            message, hint, status = (str(inner) if inner else error.summary()), "", None
        return message, getattr(error, "hint", "") or hint, getattr(error, "status", None) or status
    if isinstance(error, BaseException):
        message = getattr(error, "message", None)
        if not isinstance(message, str) or not message:
            message = str(error) or type(error).__name__
        return message, getattr(error, "hint", "") or "", getattr(error, "status", None)
    return str(error), "", None


def failure(error: Any) -> Failure:
    """The Failure view of a caught exception or a failed result (it renders itself)."""
    return error if isinstance(error, Failure) else Failure(error)


def show_failure(error: Any) -> Failure:
    """Display a caught error (message + hint) and return it. Failure demonstrations use this
    instead of letting the exception escape, because papermill fails a run on any error output."""
    shown = failure(error)
    _display(shown)
    return shown


def _display(obj: Any, raw: bool = False) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        print(repr(obj))
        return
    if get_ipython() is None:
        print(obj["text/plain"] if raw else repr(obj))
    else:
        display(obj, raw=raw)


# -- the step-through widget -----------------------------------------------------------------------

class Stepper:
    """Prev / Next buttons and a step slider over a diagram's steps: each move re-draws the diagram
    with that step lit and shows what happened on that arrow (details[step_id]).

    details values may be a Result, a caught exception (shown as a Failure), an HTML string, or any
    object with a rich repr. Steps without details say what travels there and that it has not run.
    Widget callbacks never fire in headless runs (papermill, nbval), and untrusted notebooks and the
    HTML export cannot run widgets: the displayed bundle also carries every step as HTML and text.
    """

    def __init__(self, diagram: Any = "kubernetes-auth-flow", details: dict[str, Any] | None = None,
                 start: str | int = 1, chapter: bool = False):
        from . import diagrams
        self.diagram = diagrams.load(diagram) if isinstance(diagram, str) else diagram.light(None)
        self.details = dict(details or {})
        self.chapter = chapter
        if chapter:
            self.stops = [c.number for c in diagrams.CHAPTER_STEPS]
        else:
            self.stops = list(self.diagram.step_ids)
        if not self.stops:
            raise ValueError(f"diagram {self.diagram.name!r} has no steps to step through")
        unknown = sorted(set(self.details) - set(self.diagram.step_ids) - {str(s) for s in self.stops})
        if unknown:
            from .errors import ConfigError
            raise ConfigError(f"details for unknown step(s): {', '.join(unknown)}",
                              hint=f"steps of {self.diagram.name}: {', '.join(self.diagram.step_ids)}")
        self.position = self._index(start)
        self._widget = None
        self.drawn: dict[str, str] = {}     # the MIME bundle last drawn in the widget

    # -- model (no widgets) ------------------------------------------------------------------------
    def _index(self, ref: str | int) -> int:
        if self.chapter:
            if ref in self.stops:
                return self.stops.index(ref)
        else:
            if isinstance(ref, int) and 1 <= ref <= len(self.stops):
                return ref - 1
            if ref in self.stops:
                return self.stops.index(ref)
        raise ValueError(f"no step {ref!r}: use 1..{len(self.stops)}"
                         + ("" if self.chapter else f" or one of {', '.join(self.stops)}"))

    @property
    def current(self):
        """The diagram with the current step lit."""
        stop = self.stops[self.position]
        return self.diagram.light(chapter_step=stop) if self.chapter else self.diagram.light(stop)

    def _step_ids(self, index: int) -> tuple[str, ...]:
        if self.chapter:
            from .diagrams import chapter_step
            return chapter_step(self.stops[index]).steps
        return (self.stops[index],)

    def _detail_key(self, index: int) -> str | None:
        if self.chapter and str(self.stops[index]) in self.details:
            return str(self.stops[index])
        for step_id in reversed(self._step_ids(index)):
            if step_id in self.details:
                return step_id
        return None

    def heading(self, index: int | None = None) -> str:
        from .diagrams import STEP_IDS, chapter_step, step
        index = self.position if index is None else index
        if self.chapter:
            c = chapter_step(self.stops[index])
            return f"Chapter step {c.number}/{len(self.stops)}: {c.title}"
        step_id = self.stops[index]
        if step_id in STEP_IDS:
            s = step(step_id)
            return f"Step {index + 1}/{len(self.stops)}: {s.source} → {s.target}: {s.label}"
        return f"Step {index + 1}/{len(self.stops)}: {step_id}"

    def carries(self, index: int) -> list[str]:
        from .diagrams import STEP_IDS, step
        return [step(s).carries for s in self._step_ids(index) if s in STEP_IDS]

    def log_line(self, index: int) -> str:
        key = self._detail_key(index)
        if key is None:
            outcome = "not run"
        else:
            value = self.details[key]
            if isinstance(value, BaseException):
                outcome = "FAILED " + failure(value).summary()
            elif isinstance(value, Result):
                outcome = ("ok: " if value.ok else "FAILED ") + value.summary()
            else:
                outcome = _text_of(value)
        return f"{self.heading(index)} | {outcome}"

    def log(self) -> str:
        """Every step, one line each: what the widget would show, for headless runs."""
        return "\n".join(self.log_line(i) for i in range(len(self.stops)))

    def __repr__(self) -> str:
        return f"stepper over {self.diagram.name} ({len(self.stops)} steps)\n{self.log()}"

    def detail_html(self, index: int | None = None, heading: bool = True) -> str:
        index = self.position if index is None else index
        parts = [f"<div style='font-weight:bold;margin:4px 0'>{html.escape(self.heading(index))}</div>"] if heading else []
        for text in self.carries(index):
            parts.append(f"<div style='color:#555'>What travels: {html.escape(text)}</div>")
        key = self._detail_key(index)
        if key is None:
            parts.append("<div style='color:#777;font-style:italic'>not run yet in this notebook</div>")
        else:
            parts.append(_html_of(self.details[key]))
        return "".join(parts)

    # -- widget ------------------------------------------------------------------------------------
    def go(self, ref: str | int) -> None:
        """Move to a step (1-based number or step id; chapter mode: chapter step number)."""
        self.position = self._index(ref)
        if self._widget is not None:
            self._slider.value = self.position + 1   # the observer re-draws
        
    def widget(self):
        import ipywidgets as widgets
        if self._widget is not None:
            return self._widget
        self._prev = widgets.Button(description="Prev", icon="arrow-left", layout=widgets.Layout(width="90px"))
        self._next = widgets.Button(description="Next", icon="arrow-right", layout=widgets.Layout(width="90px"))
        self._slider = widgets.IntSlider(value=self.position + 1, min=1, max=len(self.stops), step=1,
                                         description="step", continuous_update=False)
        self._label = widgets.HTML()
        self._picture = widgets.Output()
        self._detail = widgets.Output()
        self._prev.on_click(lambda _: self._move(-1))
        self._next.on_click(lambda _: self._move(+1))
        self._slider.observe(self._on_slider, names="value")
        self._widget = widgets.VBox([widgets.HBox([self._prev, self._slider, self._next]), self._label,
                                     self._picture, self._detail])
        self._widget.add_class("workshop-stepper")
        self._draw()
        return self._widget

    def _move(self, delta: int) -> None:
        self._slider.value = min(max(self._slider.value + delta, 1), len(self.stops))

    def _on_slider(self, change) -> None:
        self.position = change["new"] - 1
        self._draw()

    def _draw(self) -> None:
        self._prev.disabled = self.position == 0
        self._next.disabled = self.position == len(self.stops) - 1
        self._label.value = f"<b>{html.escape(self.heading())}</b>"
        # JupyterLab draws text/vnd.mermaid itself, offline; an SVG from mmdc here would cost a
        # browser start per step for nothing the live view needs.
        self.drawn = self.current.bundle(svg=False)
        # The outputs are assigned, never captured with `with output: display(...)`: under papermill,
        # nbclient's stand-in for the Output widget answers a capture on the shell channel while the
        # cell's reply is awaited there, and now and then that reply is only noticed when the cell
        # timeout expires (jupyter/nbclient#312): a 60 s stall, or a failed run.
        self._picture.outputs = (_display_data(self.drawn),)
        detail = self.detail_html(heading=False)    # the heading is already above the picture
        self._detail.outputs = (_display_data({"text/html": detail, "text/plain": _text_of(detail)}),)

    # -- what frontends without the widget show ---------------------------------------------------
    def steps_html(self) -> str:
        """Every step as a numbered list: what travels there and what happened, wrapping at word
        boundaries. Shown by untrusted notebooks, the HTML export and anything without widgets."""
        items = []
        for index in range(len(self.stops)):
            parts = [f"<b>{html.escape(self.heading(index))}</b>"]
            parts += [f"<br/><span style='color:#555'>What travels: {html.escape(text)}</span>"
                      for text in self.carries(index)]
            outcome = self.log_line(index).split(" | ", 1)[1]
            style = "color:#777;font-style:italic" if outcome == "not run" else ""
            outcome = "not run yet in this notebook" if outcome == "not run" else outcome
            parts.append(f"<br/><span style='{WRAP}{';' + style if style else ''}'>{html.escape(outcome)}</span>")
            items.append(f"<li style='margin-bottom:6px'>{''.join(parts)}</li>")
        note = ("<p style='color:#555'>The step-through: run this cell in JupyterLab for Prev/Next buttons "
                "and the diagram lit step by step.</p>")
        return f"{note}<ol class='workshop-steps'>{''.join(items)}</ol>"

    def fallback_bundle(self, model_id: str) -> dict:
        """The widget's MIME bundle: the live view for JupyterLab, then the steps as HTML (untrusted
        notebooks, the HTML export) and as text (headless logs) instead of the widget's repr."""
        return {"application/vnd.jupyter.widget-view+json": {"version_major": 2, "version_minor": 0,
                                                              "model_id": model_id},
                "text/html": self.steps_html(),
                "text/plain": repr(self)}

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.fallback_bundle(self.widget().model_id), raw=True)


def _display_data(bundle: dict[str, str]) -> dict:
    """One nbformat display_data output, the form an Output widget's `outputs` holds."""
    return {"output_type": "display_data", "data": dict(bundle), "metadata": {}}


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return html.unescape(re.sub(r"<[^>]+>", "", value)).strip() or "(empty)"
    summary = getattr(value, "summary", None)
    if callable(summary):
        return str(summary())
    return repr(value)


def _html_of(value: Any) -> str:
    if isinstance(value, BaseException):
        return failure(value)._repr_html_()
    if isinstance(value, str):
        return value
    to_html = getattr(value, "_repr_html_", None)
    if callable(to_html):
        rendered = to_html()
        if rendered:
            return rendered
    return f"<pre>{html.escape(repr(value))}</pre>"


def stepper(diagram: Any = "kubernetes-auth-flow", details: dict[str, Any] | None = None, *,
            start: str | int = 1, chapter: bool = False) -> Stepper:
    """A step-through view of a diagram (a name or a helpers.diagrams.Diagram).

    details maps a step id (e.g. "token-review"; chapter mode also "4") to what happened there:
    a Result, a caught exception, an HTML string. End a cell with it to display it."""
    return Stepper(diagram, details, start=start, chapter=chapter)


def show_all(*objects: Any) -> None:
    """Display several results as separate outputs of one cell (a lit diagram, then the data of its
    step): a single MIME bundle would show only one of them."""
    for obj in objects:
        _display(obj)
