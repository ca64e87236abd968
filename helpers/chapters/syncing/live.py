"""What every section of chapter 3 does with the live controller: apply an ESO object and wait (bounded) for
ESO's verdict on that version of it, force a re-sync, read back the Secret it wrote; and the small display
helpers the sections share (commands folded under a result, several results as one cell's output)."""
from __future__ import annotations

import html
import time

from ... import eso_controller
from ...cluster_results import SecretResult
from ...commands import Command, Commands
from ...display import Annotated, Result
from ...errors import AkeylessError, ClusterError, NotReady
from ...eso import Manifest

WAIT = 30.0          # bound on every wait for the controller (a reconcile takes well under a second here)


def kubectl(*argv: str, why: str) -> Command:
    return Command("kubectl", ("kubectl",) + argv, why)


def akeyless_cli(*argv: str, why: str) -> Command:
    return Command("akeyless", ("akeyless",) + argv, why)


def shown(result, step: str, *lines: Command) -> Annotated:
    """The result with, folded under it, the commands a person types for the same step."""
    return Annotated(result, [Commands(step, list(lines))])


def applied(manifest: Manifest, *parts, step: str) -> Annotated:
    """A manifest and what came of it, with the kubectl lines that apply it and read the verdict."""
    meta = manifest.body["metadata"]
    where = ("-n", meta["namespace"]) if meta.get("namespace") else ()
    check = kubectl("get", manifest.kind.lower(), meta["name"], *where, "-o",
                    "jsonpath={.status.conditions[?(@.type=='Ready')].message}", why="ESO's verdict")
    return shown(Parts([manifest, *parts]), step, apply_line(manifest), check)


def tolerate_absent(action) -> None:
    """An Akeyless deletion that may find nothing to delete (404, or 400 for a rule that is not there)."""
    try:
        action()
    except AkeylessError as exc:
        if exc.status not in (400, 404, None):
            raise


def apply_line(manifest: Manifest) -> Command:
    return Command("kubectl", ("kubectl", "apply", "-f", "-"), f"the {manifest.kind} above", stdin=manifest.yaml())


def ident(manifest: Manifest):
    meta = manifest.body["metadata"]
    return manifest.body["apiVersion"], manifest.kind, meta.get("namespace"), meta["name"]


def some(x) -> list:
    return [x] if x is not None else []


class Parts(Result):
    """Several results shown as one cell's output; its plain text is their summaries, one a line."""

    title = "result"

    def __init__(self, parts: list):
        self.parts = [p for p in parts if p is not None]

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return all(getattr(p, "ok", True) for p in self.parts)

    def summary(self) -> str:
        return "\n".join(p.summary() if hasattr(p, "summary") else repr(p) for p in self.parts)

    def _repr_html_(self) -> str:
        return "".join(shown_html(p) for p in self.parts)


class Drawn(Parts):
    """Parts that include a diagram: displayed one by one, so the diagram keeps its own renderer."""

    def _ipython_display_(self):
        from ...display import show_all
        show_all(*self.parts)


def shown_html(part) -> str:
    """A part's HTML; a manifest's YAML wraps its long lines (a template, a CA bundle) inside the notebook."""
    if isinstance(part, Manifest):
        return (f"<b>{html.escape(part.summary())}</b><pre style='background:#f6f8fa;padding:6px;"
                f"white-space:pre-wrap;overflow-wrap:anywhere'>{html.escape(part.yaml())}</pre>")
    return part._repr_html_() if hasattr(part, "_repr_html_") else html.escape(repr(part))


class LiveObjects:
    """The controller's side of the chapter: needs `self.cluster` and `self.p` (reveal)."""

    def apply(self, manifest: Manifest, *, timeout: float = WAIT) -> eso_controller.ControllerStatus:
        """Apply, and wait (bounded) for the controller's verdict on this version of the object."""
        if manifest.kind not in ("ExternalSecret", "PushSecret"):
            eso_controller.apply(self.cluster, manifest)
            return eso_controller.wait(self.cluster, manifest, timeout=timeout, progress=None)
        before = self._progress(manifest)
        eso_controller.apply(self.cluster, manifest)
        if before[0] is not None:
            eso_controller.force_sync(self.cluster, manifest)
        return self._verdict(manifest, before, timeout)

    def resync(self, manifest: Manifest) -> eso_controller.ControllerStatus:
        """A force-sync of an applied ExternalSecret or PushSecret, and the controller's verdict on it."""
        before = self._progress(manifest)
        eso_controller.force_sync(self.cluster, manifest)
        return self._verdict(manifest, before)

    def _progress(self, manifest: Manifest) -> tuple:
        """What changes on each reconcile: ESO records a success as status.syncedResourceVersion (the
        generation and a hash of labels and annotations, so a force-sync changes it), and a failure as
        one more Warning event. Timestamps have one-second resolution: they cannot tell two syncs apart."""
        obj = self.cluster.get_object(*ident(manifest))
        if obj is None:
            return None, 0
        meta = manifest.body["metadata"]
        warnings = sum(e["count"] for e in self.cluster.events_for(meta["namespace"], manifest.kind, meta["name"])
                       if e["type"] == "Warning")
        return (obj.get("status") or {}).get("syncedResourceVersion", ""), warnings

    def _verdict(self, manifest: Manifest, before: tuple, timeout: float = WAIT) -> eso_controller.ControllerStatus:
        start = time.monotonic()
        while True:
            synced, warnings = self._progress(manifest)
            current = eso_controller.status(self.cluster, manifest)
            current.waited = time.monotonic() - start
            ready = current.ready
            if ready is not None and ready.status == "True" and synced and synced != before[0]:
                return current
            if ready is not None and ready.status == "False" and warnings > before[1]:
                return current
            if current.waited >= timeout:
                current.timed_out = True
                return current
            time.sleep(0.1)

    def secret(self, name: str, namespace: str | None = None) -> SecretResult | None:
        try:
            return self.cluster.read_secret(namespace or self.p.namespace, name, reveal=self.p.reveal)
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    def require(self, manifest: Manifest, cell: str, section: int) -> None:
        """NotReady naming the cell that applies `manifest` when it is not on the cluster now (cleanup removes it)."""
        if self.cluster.get_object(*ident(manifest)) is None:
            meta = manifest.body["metadata"]
            raise NotReady(f"this cell needs {manifest.kind} {meta['name']}, which is not on the cluster now "
                           "(cleanup removes it)", f"chapter.{cell}()", section)

    def fresh_target(self, name: str, *, merge: bool = False) -> None:
        """The Secret a demonstration starts from: none (ESO creates it), or, for creationPolicy Merge, one that
        another tool wrote first (ESO only adds keys to an existing Secret)."""
        if merge:
            self.cluster.write_secret(self.p.namespace, name, {"kept": "written by another tool"})
        elif self.secret(name):
            self.cluster.delete_secret(self.p.namespace, name)

    def _value(self, name: str, key: str, namespace: str | None = None) -> str | None:
        found = self.secret(name, namespace)
        return None if found is None else found.data.get(key)

    def _wait_for_change(self, name: str, key: str, old: str | None, namespace: str | None = None,
                         timeout: float = WAIT) -> float | None:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self._value(name, key, namespace) not in (None, old):
                return time.monotonic() - start
            time.sleep(0.1)
        return None

    def _collected(self, name: str, timeout: float = 15.0) -> str:
        """The garbage collector deletes an owned Secret shortly after its owner: wait (bounded) to see it."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.secret(name) is None:
                return "Secret deleted with it (garbage collector)"
            time.sleep(0.2)
        return f"Secret still there after {timeout:.0f} s"
