"""The chapter's diagrams: load diagrams/<name>.mmd, light one step, emit a MIME bundle.

A notebook never edits Mermaid text: it asks for a diagram with a step lit,

    diagrams.show("kubernetes-auth-flow", "token-review")      # arrow 3 lit, 1-2 done, 4-8 muted
    diagrams.show("kubernetes-auth-flow", 3)                   # the same, by its number

and the returned Diagram renders itself: `text/vnd.mermaid` (JupyterLab draws it offline) and a stable
one-line `text/plain` for headless runs; `image/svg+xml` too with WORKSHOP_DIAGRAM_SVG=1 when mmdc +
chromium are installed. Headless runs replace the Mermaid outputs by PNGs afterwards (helpers.tutorial).

Lighting is done by APPENDING lines (classDef + class on node and edge ids), never by editing the
diagram's own lines, except for sequence diagrams, which have no classes: there the lit messages,
marked in the file by `%% step: <id>` ... `%% /step`, are wrapped in a `rect` block.
"""
from __future__ import annotations

import html
import os
import re
import sys
from dataclasses import dataclass, field, replace

from .config import PROJECT_ROOT, Settings
from .errors import ConfigError

DIAGRAMS_DIR = PROJECT_ROOT / "diagrams"
FLOW = "kubernetes-auth-flow"
SEQUENCE = "kubernetes-auth-sequence"
ARCHITECTURE = "lab-architecture"


# Lit = the step being looked at; done = steps before it; muted = steps after it. Class names are
# prefixed so they cannot collide with the diagrams' own classDefs.
STYLE_LINES = (
    "classDef stepLit fill:#ffd54f,stroke:#e65100,stroke-width:3px,color:#000",
    "classDef stepDone stroke:#1b5e20,stroke-width:2px",
    "classDef stepMuted opacity:0.45",
    "classDef edgeLit stroke:#e65100,stroke-width:4px",
    "classDef edgeDone stroke:#2e7d32,stroke-width:2px",
    "classDef edgeMuted stroke:#9e9e9e,opacity:0.45",
)
LIT_COLOUR = "#e65100"
LIT_NODE_STYLE = "fill:#ffd54f,stroke:#e65100,stroke-width:3px,color:#000"
SEQUENCE_LIT_RECT = "rect rgba(255, 213, 79, 0.45)"

_EDGE = re.compile(r'^\s*([A-Za-z][\w]*)\s+([a-z][\w-]*)@-->\|"(.*)"\|\s*([A-Za-z][\w]*)\s*$')
_NODE = re.compile(r'^\s*([A-Za-z][\w]*)\[')
_SEQ_START = re.compile(r"^\s*%%\s*step:\s*([a-z][\w-]*)\s*$")
_SEQ_END = re.compile(r"^\s*%%\s*/step\s*$")


def _plain(label: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<br\s*/?>", " ", label)).strip()


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    label: str


@dataclass(frozen=True)
class Diagram:
    """A diagram, possibly with steps lit. Immutable: light() returns a new Diagram."""

    name: str
    source: str
    lit: tuple[str, ...] = ()
    lit_nodes: tuple[str, ...] | None = None   # None: the endpoints of the lit arrows
    caption: str = ""
    svg_policy: str | None = field(default=None, compare=False)  # None: WORKSHOP_DIAGRAM_SVG (default off)

    # -- structure ---------------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        for line in self.source.splitlines():
            line = line.strip()
            if line and not line.startswith("%%"):
                return {"flowchart": "flowchart", "graph": "flowchart",
                        "sequenceDiagram": "sequence"}.get(line.split()[0], line.split()[0])
        raise ConfigError(f"diagram {self.name!r} is empty")

    @property
    def edges(self) -> tuple[Edge, ...]:
        """Flowchart arrows that carry an edge id (`A id@-->|"label"| B`), in file order."""
        return tuple(Edge(m[2], m[1], m[4], _plain(m[3]))
                     for m in map(_EDGE.match, self.source.splitlines()) if m)

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m[1] for m in map(_NODE.match, self.source.splitlines()) if m))

    @property
    def step_ids(self) -> tuple[str, ...]:
        """The steps this diagram can light, in order."""
        if self.kind == "sequence":
            return tuple(dict.fromkeys(m[1] for m in map(_SEQ_START.match, self.source.splitlines()) if m))
        return tuple(e.id for e in self.edges)

    # -- lighting ----------------------------------------------------------------------------------
    def light(self, step_ref: str | int | None = None) -> "Diagram":
        """This diagram with one arrow lit (a step id, or its number in file order), or nothing lit."""
        if step_ref is None:
            return replace(self, lit=(), lit_nodes=None, caption="")
        step_id = self.step_id(step_ref)
        self._check((step_id,))
        return replace(self, lit=(step_id,), lit_nodes=None, caption="")

    def step_id(self, ref: str | int) -> str:
        """The id of step `ref` (an id, or a 1-based number in file order)."""
        known = self.step_ids
        if isinstance(ref, int) and not isinstance(ref, bool):
            if 1 <= ref <= len(known):
                return known[ref - 1]
            raise ConfigError(f"diagram {self.name!r} has no step {ref}",
                              hint=f"its steps are 1..{len(known)} or ids: {', '.join(known)}")
        return ref

    def edge(self, step_id: str) -> Edge | None:
        return next((e for e in self.edges if e.id == step_id), None)

    def relabel(self, names: dict[str, str]) -> "Diagram":
        """The same diagram naming this run's objects instead of the chapter's examples
        (`{"akeyless-auth-sa": "payments-api", ...}`); node ids and step ids are untouched."""
        source = self.source
        for old, new in names.items():
            if old and new and old != new:
                source = source.replace(old, new)
        return replace(self, source=source)

    def _check(self, step_ids: tuple[str, ...]) -> None:
        known = self.step_ids
        unknown = [s for s in step_ids if s not in known]
        if unknown:
            raise ConfigError(f"diagram {self.name!r} has no step {', '.join(unknown)}",
                              hint=f"its steps: {', '.join(known) or '(none: it cannot be lit)'}")

    def states(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Which nodes and edges are lit / done / muted (empty when nothing is lit)."""
        if not self.lit or self.kind != "flowchart":
            return {"nodes": {}, "edges": {}}
        order = self.step_ids
        first, last = min(map(order.index, self.lit)), max(map(order.index, self.lit))
        edges = {e.id: e for e in self.edges}
        lit_edges = tuple(s for s in order if s in self.lit)
        done_edges = order[:first]
        muted_edges = tuple(s for s in order[last + 1:] if s not in self.lit)
        endpoints = tuple(dict.fromkeys(n for s in lit_edges for n in (edges[s].source, edges[s].target)))
        lit_nodes = tuple(self.lit_nodes) if self.lit_nodes is not None else endpoints
        seen = set(lit_nodes)
        done_nodes = tuple(n for n in dict.fromkeys(
            [n for s in done_edges for n in (edges[s].source, edges[s].target)] + list(endpoints)) if n not in seen)
        seen |= set(done_nodes)
        muted_nodes = tuple(n for n in self.nodes if n not in seen)
        return {"nodes": {"stepLit": lit_nodes, "stepDone": done_nodes, "stepMuted": muted_nodes},
                "edges": {"edgeLit": lit_edges, "edgeDone": done_edges, "edgeMuted": muted_edges}}

    @property
    def mermaid(self) -> str:
        """The Mermaid text to render: the file's text plus the lighting."""
        base = self.source.rstrip() + "\n"
        if not self.lit:
            return base
        if self.kind == "sequence":
            return self._sequence_lit()
        states = self.states()
        lines = [f"    %% lit by helpers.diagrams: {', '.join(self.lit)}"]
        lines += [f"    {s}" for s in STYLE_LINES]
        for group in ("nodes", "edges"):
            for cls, ids in states[group].items():
                if ids:
                    lines.append(f"    class {','.join(ids)} {cls}")
        # A diagram's own `style` lines are inlined with !important and beat any class, so the lit
        # nodes also get a `style` line; being later, it wins over the file's.
        lines += [f"    style {n} {LIT_NODE_STYLE}" for n in states["nodes"]["stepLit"]]
        lines += [f"    {s}@{{ animate: true }}" for s in states["edges"]["edgeLit"]]
        return base + "\n".join(lines) + "\n"

    def _sequence_lit(self) -> str:
        out, current = [], None
        for line in self.source.rstrip().splitlines():
            start, end = _SEQ_START.match(line), _SEQ_END.match(line)
            if start:
                current = start[1]
                if current in self.lit:
                    indent = line[:len(line) - len(line.lstrip())]
                    out.append(f"{indent}{SEQUENCE_LIT_RECT}")
                out.append(line)
            elif end:
                out.append(line)
                if current in self.lit:
                    out.append(line[:len(line) - len(line.lstrip())] + "end")
                current = None
            else:
                out.append(line)
        return "\n".join(out) + "\n"

    # -- description -------------------------------------------------------------------------------
    def describe(self) -> str:
        """One stable line: which diagram, which step is lit (for headless runs and nbval)."""
        if not self.lit:
            return f"{self.name}: {self.kind}, nothing lit"
        s = self.lit[0]
        order = self.step_ids
        edge = self.edge(s)
        where = f" ({edge.source} -> {edge.target}: {re.sub(r'^[0-9]+[.] ', '', edge.label)})" if edge else ""
        return f"{self.name}: step {order.index(s) + 1}/{len(order)} {s} lit{where}"

    def __repr__(self) -> str:
        return self.describe()

    # -- rendering ---------------------------------------------------------------------------------
    def svg(self) -> str | None:
        """The SVG from mmdc (cached by content), or None when no renderer is installed."""
        renderer = _renderer()
        if renderer is None:
            return None
        return renderer.render(self.mermaid, "svg").decode()

    def _want_svg(self) -> bool:
        # Off unless asked for: JupyterLab draws the Mermaid text itself (and ranks it above SVG), and
        # a headless run turns its diagrams into PNGs in one batch (helpers.tutorial), so an SVG per
        # output would cost a browser start each for a picture nobody sees.
        policy = (self.svg_policy or os.environ.get("WORKSHOP_DIAGRAM_SVG", "off")).lower()
        if policy not in ("1", "yes", "on", "true", "auto"):
            return False
        return _renderer() is not None

    def bundle(self, svg: bool | None = None) -> dict[str, str]:
        data = {"text/vnd.mermaid": self.mermaid, "text/plain": self.describe()}
        if svg if svg is not None else self._want_svg():
            rendered = self.svg()
            if rendered:
                data["image/svg+xml"] = rendered
        return data

    def _repr_mimebundle_(self, include=None, exclude=None):
        return self.bundle()

    def to_html(self) -> str:
        """A <pre class="mermaid"> block, for HTML pages that load mermaid themselves."""
        return f'<pre class="mermaid">{html.escape(self.mermaid)}</pre>'


def names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in DIAGRAMS_DIR.glob("*.mmd")))


def load(name: str) -> Diagram:
    """diagrams/<name>.mmd as a Diagram with nothing lit."""
    path = DIAGRAMS_DIR / f"{name.removesuffix('.mmd')}.mmd"
    if not path.is_file():
        raise ConfigError(f"no diagram named {name!r} in {DIAGRAMS_DIR}", hint=f"known diagrams: {', '.join(names())}")
    _ensure_offline_mermaid_py()
    return Diagram(name=path.stem, source=path.read_text())


def show(name: str = FLOW, step: str | int | None = None) -> Diagram:
    """The diagram with one step (arrow id or number) lit; renders itself."""
    return load(name).light(step)


def variants(name: str) -> list[Diagram]:
    """Every lit variant this module can emit for the diagram: nothing lit, then each step. The diagram
    tests render all of them with the real engine."""
    base = load(name)
    return [base] + [base.light(s) for s in base.step_ids]


# -- renderers -------------------------------------------------------------------------------------
_RENDERER: dict[str, object] = {}
_SAID: set[str] = set()


def _say_once(key: str, text: str) -> None:
    if key not in _SAID:
        _SAID.add(key)
        print(text, file=sys.stderr)


def _renderer(quiet: bool = False):
    """The mmdc renderer, or None (said once, on stderr, what is missing)."""
    if "cli" not in _RENDERER:
        from .mmdc import MermaidCLI, RendererMissing
        try:
            _RENDERER["cli"] = MermaidCLI.find()
        except RendererMissing as exc:
            _RENDERER["cli"] = None
            _RENDERER["why"] = str(exc)
    if _RENDERER["cli"] is None and not quiet:
        _say_once("renderer", f"note: diagrams are drawn by JupyterLab only (no SVG in outputs): {_RENDERER['why']}")
    return _RENDERER["cli"]


def mermaid_ink_url(settings: Settings | None = None) -> str | None:
    """The lab's local stand-in for mermaid.ink (started when mmdc + chromium are installed), or None."""
    import json
    settings = settings or Settings.load()
    try:
        endpoints = json.loads((settings.lab_dir / "endpoints.json").read_text())
    except (OSError, ValueError):
        return None
    return endpoints.get("mermaid_ink")


# A loopback address nothing listens on: mermaid-py then fails fast instead of calling the internet.
_NOWHERE = "http://127.0.0.1:9"


def _ensure_offline_mermaid_py(settings: Settings | None = None) -> str:
    """Point mermaid-py (`mermaid.Mermaid(...)`, `%%mermaidjs`) at the lab's local renderer, never at
    mermaid.ink on the internet. An address the learner set themselves is kept."""
    current = os.environ.get("MERMAID_INK_SERVER", "")
    if current and "mermaid.ink" not in current and current != _NOWHERE:
        return current
    try:
        url = mermaid_ink_url(settings)
    except ConfigError:
        url = None
    if url:
        os.environ["MERMAID_INK_SERVER"] = url
        return url
    os.environ["MERMAID_INK_SERVER"] = _NOWHERE
    return _NOWHERE


def use_local_mermaid_ink(settings: Settings | None = None) -> str | None:
    """Make mermaid-py render through the running lab (call after `lab up`). Returns the URL, or None
    when the lab has no renderer (mermaid-py then fails fast rather than going online)."""
    url = _ensure_offline_mermaid_py(settings)
    if url == _NOWHERE:
        _say_once("ink", "note: mermaid-py's Mermaid() has no local renderer: the lab serves one when mmdc and "
                         "chromium are installed (see tools/mermaid); helpers.diagrams.show(...) draws offline anyway")
        return None
    return url


def via_mermaid_py(diagram: "Diagram | str" = FLOW, settings: Settings | None = None):
    """A diagram drawn by mermaid-py's `Mermaid` class, rendered by the lab's local mermaid.ink
    (offline). Without a local renderer it falls back to the native Diagram, which JupyterLab draws."""
    diagram = show(diagram) if isinstance(diagram, str) else diagram
    url = use_local_mermaid_ink(settings)
    if url is None:
        return diagram
    import mermaid
    return MermaidPyDrawing(diagram, mermaid.Mermaid(diagram.mermaid), url)


@dataclass(frozen=True)
class MermaidPyDrawing:
    """A mermaid-py drawing with a stable one-line text form (its own repr is a memory address).

    Shown as the PNG mermaid-py fetched alongside its SVG: its `_repr_html_` is that SVG inline,
    whose HTML labels JupyterLab's sanitizer strips from untrusted notebooks (jumbled text), and
    which the page's styles restyle even when trusted."""

    diagram: "Diagram"
    drawing: object
    server: str

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64

        from .mmdc import PNG_SCALE
        text = f"{self.diagram.describe()} (drawn by mermaid-py through the lab's local renderer)"
        png = getattr(getattr(self.drawing, "img_response", None), "content", b"")
        if not png.startswith(b"\x89PNG"):
            return {"text/plain": text, "text/html": self.drawing._repr_html_()}
        width = int.from_bytes(png[16:20], "big") // PNG_SCALE
        return ({"image/png": base64.b64encode(png).decode(), "text/plain": text},
                {"image/png": {"width": width}})
