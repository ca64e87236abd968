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
                 start: str | int = 1, notes: dict[str, str] | None = None):
        from . import diagrams
        self.diagram = diagrams.load(diagram) if isinstance(diagram, str) else diagram.light(None)
        self.details = dict(details or {})
        self.notes = dict(notes or {})          # step id -> what travels on that arrow
        self.stops = list(self.diagram.step_ids)
        if not self.stops:
            raise ValueError(f"diagram {self.diagram.name!r} has no steps to step through")
        unknown = sorted((set(self.details) | set(self.notes)) - set(self.stops))
        if unknown:
            from .errors import ConfigError
            raise ConfigError(f"details for unknown step(s): {', '.join(unknown)}",
                              hint=f"steps of {self.diagram.name}: {', '.join(self.diagram.step_ids)}")
        self.position = self._index(start)
        self._widget = None
        self.drawn: dict[str, str] = {}     # the MIME bundle last drawn in the widget

    # -- model (no widgets) ------------------------------------------------------------------------
    def _index(self, ref: str | int) -> int:
        if isinstance(ref, int) and 1 <= ref <= len(self.stops):
            return ref - 1
        if ref in self.stops:
            return self.stops.index(ref)
        raise ValueError(f"no step {ref!r}: use 1..{len(self.stops)} or one of {', '.join(self.stops)}")

    @property
    def current(self):
        """The diagram with the current step lit."""
        return self.diagram.light(self.stops[self.position])

    def _detail_key(self, index: int) -> str | None:
        return self.stops[index] if self.stops[index] in self.details else None

    def heading(self, index: int | None = None) -> str:
        index = self.position if index is None else index
        step_id = self.stops[index]
        edge = self.diagram.edge(step_id)
        if edge is not None:
            label = re.sub(r"^[0-9]+[.] ", "", edge.label)
            return f"Step {index + 1}/{len(self.stops)}: {edge.source} → {edge.target}: {label}"
        return f"Step {index + 1}/{len(self.stops)}: {step_id}"

    def carries(self, index: int) -> list[str]:
        note = self.notes.get(self.stops[index])
        return [note] if note else []

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
        """Move to a step (1-based number or step id)."""
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
            start: str | int = 1, notes: dict[str, str] | None = None) -> Stepper:
    """A step-through view of a diagram (a name or a helpers.diagrams.Diagram).

    details maps a step id (e.g. "token-review") to what happened there: a Result, a caught exception,
    an HTML string; notes maps a step id to what travels on that arrow. End a cell with it to display it."""
    return Stepper(diagram, details, start=start, notes=notes)


def show_all(*objects: Any) -> None:
    """Display several results as separate outputs of one cell (a lit diagram, then the data of its
    step): a single MIME bundle would show only one of them."""
    for obj in objects:
        _display(obj)


class Annotated:
    """A result shown with companions folded under it (the commands a person types for the same step on a
    real cluster). Its plain text stays the result's own, so a headless run and nbval compare the same
    line; every attribute is the result's, so code that reads the result is unchanged."""

    def __init__(self, result: Any, companions: Iterable[Any]):
        self.result = result
        self.companions = list(companions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["result"], name)

    def __repr__(self) -> str:
        return repr(self.result)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        bundle = _bundle_of(self.result)
        shown = bundle.get("text/html") or f"<pre>{html.escape(bundle['text/plain'])}</pre>"
        folded = "".join(_bundle_of(c).get("text/html", "") for c in self.companions)
        return {"text/plain": bundle["text/plain"], "text/html": shown + folded}


def _bundle_of(obj: Any) -> dict[str, str]:
    if hasattr(obj, "_repr_mimebundle_"):
        return dict(obj._repr_mimebundle_())
    bundle = {"text/plain": repr(obj)}
    if hasattr(obj, "_repr_html_"):
        bundle["text/html"] = obj._repr_html_()
    return bundle


# -- expected errors in a notebook: one styled message, no traceback --------------------------------

# The names a chapter notebook's first cells define (its imports and its chapter object): after a kernel
# restart a later cell meets them undefined.
SETUP_NAMES = frozenset({"chapter", "aks", "commands", "diagrams", "display", "doctor", "failures", "runbook",
                         "security", "kubernetes_auth"})
SETUP_HINT = "run the setup cells at the top first (Run > Run All Above Selected Cell)"
KERNEL_HOOK_MARK = "# written by helpers.display.install_error_handler"
_KINDS = {"NotReady": "needs an earlier cell", "ParameterError": "check the parameters"}


def _expected_error(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: an expected error (helpers.errors) is shown as the
    learner should read it; anything else keeps its full traceback (it is a bug)."""
    from .errors import LabError
    if isinstance(value, NameError) and getattr(value, "name", None) in SETUP_NAMES:
        shown = Failure(LabError(f"`{value.name}` is not defined: the kernel was restarted, or the setup cells "
                                 "have not run yet", hint=SETUP_HINT))
        shown.kind = "not set up"
    elif isinstance(value, LabError):
        shown = Failure(value)
        shown.kind = _KINDS.get(shown.kind, shown.kind)
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    # One error output of one line, styled by the notebook's error colours: Run All and papermill stop
    # here, and papermill's message is this line too.
    line = f"\x1b[1;31m✘ {shown.kind}\x1b[0m: {_first_line(shown.message)}"
    if shown.hint:
        line += f"\n\x1b[1;32m→ {shown.hint}\x1b[0m"
    shell._showtraceback(etype, value, [line])
    return [line]


def install_error_handler(shell=None, *, restarts: bool = True) -> None:
    """Show expected errors (helpers.errors) in this kernel as one short styled message naming the
    fix, with no traceback. With `restarts`, a kernel of this environment started later (a restart)
    installs it too, so a cell run before the setup cells says which cells to run. Outside IPython
    there is nothing to install."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
    if shell is None:
        return
    from .errors import LabError
    shell.set_custom_exc((LabError, NameError), _expected_error)
    if restarts:
        install_kernel_hook()


def load_ipython_extension(shell) -> None:
    """`%load_ext helpers.display`, and what the kernel hook runs when a kernel starts."""
    install_error_handler(shell, restarts=False)


def install_kernel_hook() -> None:
    """Write ipython_kernel_config.py into this environment's etc/ipython, which IPython reads when a
    kernel of this environment starts (IPython has no per-notebook hook, and a restarted kernel runs
    nothing of the notebook's). Only in a virtual environment, and never over a file of someone else's."""
    import sys
    from pathlib import Path
    if sys.prefix == sys.base_prefix:
        return
    path = Path(sys.prefix, "etc", "ipython", "ipython_kernel_config.py")
    text = (f"{KERNEL_HOOK_MARK}: a kernel of this environment shows the workshop's\n"
            "# expected errors as one line (and says which cells to run after a restart).\n"
            "c.InteractiveShellApp.extensions = ['helpers.display']\n")
    try:
        if path.exists():
            if not path.read_text().startswith(KERNEL_HOOK_MARK) or path.read_text() == text:
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError:
        pass    # a read-only environment: the handler still works in this kernel
# -- the instructor's board ------------------------------------------------------------------------

_STATUS_COLOURS = {"finished": "#2e7d32", "working": "#1565c0", "may need a hand": "#ef6c00",
                   "not started": "#757575"}


def bar_chart_html(counts: Iterable[tuple[str, int]], title: str = "") -> str:
    """Horizontal bars, one per label, drawn in plain HTML (no plotting library, renders offline)."""
    counts = list(counts)
    most = max((n for _, n in counts), default=0) or 1
    bars = "".join(
        f"<tr><td style='text-align:right;padding-right:6px'>{html.escape(label)}</td>"
        f"<td><div style='background:#1565c0;height:12px;width:{int(240 * n / most)}px;display:inline-block'>"
        f"</div> {n}</td></tr>" for label, n in counts)
    head = f"<b>{html.escape(title)}</b>" if title else ""
    return f"<div>{head}<table>{bars}</table></div>"


def board_html(board: Any) -> str:
    """A board (summary(), header, rows(), histogram()) as a table, the status column coloured, and the
    room's progress as a bar chart. A reproduced failure is shown as a count, never in red."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in board.header)
    body = []
    for row in board.rows():
        colour = _STATUS_COLOURS.get(str(row[2]), "#000")
        cells = "".join(f"<td style='text-align:left;vertical-align:top'>{html.escape(str(c))}</td>"
                        if i != 2 else f"<td style='color:{colour};font-weight:bold'>{html.escape(str(c))}</td>"
                        for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return (f"<div><b>{html.escape(board.summary())}</b><table><tr>{head}</tr>{''.join(body)}</table>"
            f"{bar_chart_html(board.histogram(), 'the room, by step')}</div>")


class LiveBoard:
    """A board that re-reads itself every `interval` seconds: an HTML widget holding the table and the
    chart, a refresh button and an auto-refresh toggle. Headless runs (papermill, nbval) get the board
    as plain text too, since no widget renders there."""

    def __init__(self, read: Any, interval: float = 10.0, minutes: float = 240.0):
        import ipywidgets as widgets

        self.read = read
        self.interval = interval
        self.deadline = minutes * 60
        self.board = read()
        self.view = widgets.HTML(board_html(self.board))
        self.stamp = widgets.Label()
        self.auto = widgets.ToggleButton(value=True, description="auto-refresh", icon="refresh")
        self.button = widgets.Button(description="refresh now")
        self.button.on_click(lambda _: self.refresh())
        self.widget = widgets.VBox([widgets.HBox([self.button, self.auto, self.stamp]), self.view])
        self._stamp()
        import threading
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _stamp(self) -> None:
        import time
        self.stamp.value = f"read at {time.strftime('%H:%M:%S')}, every {self.interval:g} s"

    def refresh(self) -> Any:
        self.board = self.read()
        self.view.value = board_html(self.board)
        self._stamp()
        return self.board

    def _loop(self) -> None:
        import time
        end = time.monotonic() + self.deadline
        while not self._stop.wait(self.interval) and time.monotonic() < end:
            if self.auto.value:
                try:
                    self.refresh()
                except Exception as exc:  # a lab restarting must not kill the loop: say so on the board
                    self.stamp.value = f"could not read the room: {exc}"

    def stop(self) -> None:
        self._stop.set()

    def _ipython_display_(self) -> None:
        from IPython.display import display
        display(self.widget)
        text = getattr(self.board, "as_text", None)
        print(text() if callable(text) else _text_of(self.board))


_LIVE: list = []


def live_board(read: Any, interval: float = 10.0) -> LiveBoard:
    """The instructor's live board: `read()` returns a board (see helpers.workshop.progress). Re-running
    the cell stops the previous board's refresh, so one kernel never polls the lab twice."""
    while _LIVE:
        _LIVE.pop().stop()
    _LIVE.append(LiveBoard(read, interval))
    return _LIVE[-1]
