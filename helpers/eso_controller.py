"""The real External Secrets Operator, seen from the client side: apply a SecretStore or an
ExternalSecret, wait (bounded, with progress) until the controller has decided, and read back what it
reported (status conditions, events) and what it wrote (the Secret, its labels, annotations and owner).

Works against any cluster where an ESO controller watches (the lab's real stack, `lab up --kube
apiserver`; `lab eso` beside kind or AKS; an ESO installed with Helm): it only talks to the API
server through helpers.cluster. The replay in helpers/eso.py is the stand-in when no controller runs.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable

from .cluster_results import ObjectResult
from .display import Result
from .errors import ClusterError
from .eso import API_VERSION, Manifest

FORCE_SYNC = "force-sync"           # ESO reconciles at once when this annotation's value changes
DEFAULT_TIMEOUT = 60.0
POLL_SECONDS = 0.1
EVENT_GRACE = 3.0
CRD_GROUP = "external-secrets.io"
CHAPTER_CRDS = ("secretstores", "clustersecretstores", "externalsecrets")
SYNCED_KINDS = ("ExternalSecret", "PushSecret")     # a Ready=True of these is a sync, stamped refreshTime


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str
    last_transition: float | None

    @classmethod
    def from_status(cls, raw: dict) -> "Condition":
        return cls(raw.get("type", ""), raw.get("status", ""), raw.get("reason", ""), raw.get("message", ""),
                   parse_time(raw.get("lastTransitionTime")))


@dataclass
class ControllerStatus(Result):
    """What the controller reported on one object: its Ready condition, its events, how long it took."""

    kind: str
    namespace: str | None
    name: str
    conditions: tuple = ()
    events: list = field(default_factory=list)
    waited: float = 0.0
    timed_out: bool = False
    refresh_time: float | None = None
    uid: str = ""
    synced: dict = field(default_factory=dict)     # PushSecret: store ("SecretStore/name") -> remote keys pushed
    synced_resource_version: str = ""

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.kind} status (from the ESO controller)"

    @property
    def ready(self) -> Condition | None:
        return next((c for c in self.conditions if c.type == "Ready"), None)

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return bool(self.ready and self.ready.status == "True")

    @property
    def reason(self) -> str:
        return self.ready.reason if self.ready else ""

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def message(self) -> str:
        """The condition's message, or, when the controller's detail is only in an event (ESO puts
        the provider's error in a Warning event and a generic sentence in the condition), both."""
        if not self.ready:
            return ""
        warnings = [e["message"] for e in self.events if e.get("type") == "Warning"]
        if not self.ok and warnings and warnings[-1] not in self.ready.message:
            return f"{self.ready.message}: {warnings[-1]}"
        return self.ready.message

    def summary(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        if not self.ready:
            state = f"no decision from the controller after {self.waited:.1f} s"
            if self.timed_out:
                state += " (is the ESO controller running? `python -m helpers lab status`)"
            return f"{self.kind} {where}{self.name}: {state}"
        return (f"{self.kind} {where}{self.name}: Ready={self.ready.status} {self.ready.reason}: "
                f"{self.message} ({self.waited:.2f} s)")

    def rows(self):
        rows = [(f"condition {c.type}", f"{c.status} {c.reason}: {c.message}") for c in self.conditions]
        rows += [(f"event {e['type']} {e['reason']}", f"{e['message']} (x{e['count']}, {e['source']})")
                 for e in self.events]
        rows += [(f"pushed to {store}", ", ".join(keys)) for store, keys in sorted(self.synced.items())]
        return rows + [("waited", f"{self.waited:.2f} s" + (" (timed out)" if self.timed_out else ""))]


def _identity(obj: Manifest | dict) -> tuple[str, str, str | None, str]:
    body = obj.body if isinstance(obj, Manifest) else obj
    meta = body["metadata"]
    return body.get("apiVersion", API_VERSION), body["kind"], meta.get("namespace"), meta["name"]


def apply(cluster, manifest: Manifest | dict) -> ObjectResult:
    """`kubectl apply --server-side` of a SecretStore, ClusterSecretStore or ExternalSecret. A manifest
    the CRD's schema refuses raises ClusterError with the API server's message (status 422)."""
    body = manifest.body if isinstance(manifest, Manifest) else manifest
    stored = cluster.apply(body)
    meta = stored["metadata"]
    return ObjectResult(body["kind"], meta["name"], meta.get("namespace"), uid=meta.get("uid"), action="applied")


def delete(cluster, manifest: Manifest | dict) -> ObjectResult:
    api_version, kind, namespace, name = _identity(manifest)
    return cluster.delete_object(api_version, kind, namespace, name)


def status(cluster, manifest: Manifest | dict) -> ControllerStatus:
    """The object's conditions and events as they are now."""
    api_version, kind, namespace, name = _identity(manifest)
    obj = cluster.get_object(api_version, kind, namespace, name)
    if obj is None:
        raise ClusterError(f"{kind} {namespace or ''}/{name} does not exist".replace(" /", " "),
                           reason="NotFound", status=404, hint="apply it first (the cell before this one)")
    raw = obj.get("status") or {}
    synced = {store: sorted(entries or {}) for store, entries in (raw.get("syncedPushSecrets") or {}).items()}
    return ControllerStatus(kind, namespace, name, tuple(Condition.from_status(c) for c in raw.get("conditions") or []),
                            events(cluster, manifest), refresh_time=parse_time(raw.get("refreshTime")),
                            uid=obj["metadata"]["uid"], synced=synced,
                            synced_resource_version=raw.get("syncedResourceVersion", ""))


def events(cluster, manifest: Manifest | dict) -> list[dict]:
    """The Events recorded about the object (ESO's Synced/Updated/Errored..., the API server's), oldest
    first: dicts with time, type, reason, message, count, source. Cluster-scoped objects have none here."""
    _, kind, namespace, name = _identity(manifest)
    return cluster.events_for(namespace, kind, name) if namespace else []


def _decided(current: ControllerStatus, since: float | None) -> bool:
    ready = current.ready
    if ready is None:
        return False
    if since is None:
        return True
    # conditions and refreshTime have one-second resolution: compare whole seconds
    since = int(since)
    if ready.status == "True":
        if current.kind not in SYNCED_KINDS:
            return True
        return (current.refresh_time or 0) >= since
    if (ready.last_transition or 0) >= since:
        return True
    return any(e["type"] == "Warning" and _event_time(e) >= since for e in current.events)


def _event_time(event: dict) -> float:
    when = event.get("time")
    return when.timestamp() if hasattr(when, "timestamp") else (parse_time(when) or 0)


def _poll(cluster, manifest, done: Callable[[ControllerStatus], bool], describe: Callable[[ControllerStatus], str],
          timeout: float, progress: Callable[[str], None] | None) -> ControllerStatus:
    """Read the object's status until `done` says so or `timeout` seconds have passed (then `timed_out`);
    one progress line per change of what `describe` says. An object not there yet is an empty status."""
    start = time.monotonic()
    last_line = ""
    while True:
        try:
            current = status(cluster, manifest)
        except ClusterError as exc:
            if exc.status != 404:
                raise
            _, kind, namespace, name = _identity(manifest)
            current = ControllerStatus(kind, namespace, name)
        current.waited = time.monotonic() - start
        if done(current):
            return current
        if current.waited >= timeout:
            current.timed_out = True
            return current
        line = describe(current)
        if progress and line != last_line:
            progress(f"{line} ({current.waited:.1f} s of {timeout:.0f})")
            last_line = line
        time.sleep(POLL_SECONDS)


def wait(cluster, manifest: Manifest | dict, *, timeout: float = DEFAULT_TIMEOUT, since: float | None = None,
         progress: Callable[[str], None] | None = print) -> ControllerStatus:
    """Poll until the controller has decided about the object (Ready True or False; with `since`,
    a decision made at or after that time: a re-sync), or `timeout` seconds. Never raises for the
    controller's verdict and never waits longer than `timeout`; prints one line per change of state."""
    start = time.monotonic()
    current = _poll(cluster, manifest, lambda c: _decided(c, since),
                    lambda c: f"waiting for ESO: {c.kind} {c.name}: "
                              + (c.ready and f"{c.ready.status} {c.ready.reason}" or "no status yet"),
                    timeout, progress)
    if current.timed_out or current.ok:
        return current
    return _with_warning(cluster, manifest, current, since, start)


def wait_for(cluster, manifest: Manifest | dict, *, reason: str | None = None, status_: str | None = None,
             condition: str = "Ready", timeout: float = DEFAULT_TIMEOUT, since: float | None = None,
             progress: Callable[[str], None] | None = print) -> ControllerStatus:
    """Poll until the object's `condition` has the given `reason` and/or status ("True"/"False"),
    (with `since`: set at or after that time), or `timeout` seconds. Returns the last status read
    (`timed_out` set when the wait ran out); never raises for what the controller decided."""
    floor = int(since) if since else 0
    wanted = " ".join(x for x in (condition, status_, reason) if x)

    def done(current: ControllerStatus) -> bool:
        found = current.condition(condition)
        return bool(found) and (reason is None or found.reason == reason) and \
            (status_ is None or found.status == status_) and \
            (not floor or (found.last_transition or 0) >= floor or (current.refresh_time or 0) >= floor)

    def describe(current: ControllerStatus) -> str:
        found = current.condition(condition)
        return (f"waiting for {wanted} on {current.kind} {current.name}: now "
                + (f"{found.status} {found.reason}" if found else "no such condition yet"))

    return _poll(cluster, manifest, done, describe, timeout, progress)


def metrics(lab=None, url: str | None = None):
    """ESO's metrics endpoint read once (helpers.eso_metrics.ControllerMetrics): the reconcile and
    error counters per kind and ESO's sync counters per ExternalSecret. `lab` is the session's
    LabInfo (its real-stack controller), or give the endpoint's `url`."""
    from . import eso_metrics
    return eso_metrics.read(lab, url)


def _with_warning(cluster, manifest, current: ControllerStatus, since: float | None, start: float) -> ControllerStatus:
    """ESO sets the failed condition first and records the Warning event with the provider's error
    through an asynchronous recorder: give the event a moment (bounded) to arrive."""
    deadline = time.monotonic() + EVENT_GRACE
    floor = int(since) if since else 0
    while time.monotonic() < deadline:
        if any(e["type"] == "Warning" and _event_time(e) >= floor for e in current.events):
            break
        time.sleep(POLL_SECONDS)
        current = status(cluster, manifest)
    current.waited = time.monotonic() - start
    return current


def force_sync(cluster, manifest: Manifest | dict) -> float:
    """Annotate the ExternalSecret with a new `force-sync` value: ESO re-reads Akeyless at once instead
    of at the next refreshInterval. Returns the time of the request (pass it to wait(since=...))."""
    api_version, kind, namespace, name = _identity(manifest)
    from .cluster import object_path
    now = time.time()
    cluster.request("PATCH", object_path(api_version, kind, namespace, name),
                    {"metadata": {"annotations": {FORCE_SYNC: f"{now:.6f}"}}},
                    content_type="application/merge-patch+json", doing=f"annotating {kind} {namespace}/{name}")
    return now


def crds_established(cluster) -> dict[str, bool]:
    """For each CRD the chapter uses: is it installed and Established? (absent -> False)"""
    found = {}
    for plural in CHAPTER_CRDS:
        crd = cluster.get_object("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, f"{plural}.{CRD_GROUP}")
        conditions = ((crd or {}).get("status") or {}).get("conditions") or []
        found[plural] = any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
    return found


# --- section 7 on a cluster where the controller runs ---------------------------------------------

@dataclass
class LiveSync(Result):
    """One sync by the real controller: the store's and the ExternalSecret's verdicts, the Secret it
    wrote, and (on the lab) the calls it made, traced from the servers' audit logs."""

    store: ControllerStatus
    external: ControllerStatus
    secret: object = None            # SecretResult, or None when nothing was written
    trace: object = None             # eso_trace.Trace, or None where the audit logs are not readable

    title = "External Secrets Operator (the real controller)"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.store.ok and self.external.ok and self.secret is not None

    def summary(self) -> str:
        return f"{self.store.summary()}; {self.external.summary()}"

    def rows(self):
        rows = [("SecretStore", self.store.summary()), ("ExternalSecret", self.external.summary())]
        rows += self.external.rows()[:-1]
        if self.secret is not None:
            rows.append(("Secret", self.secret.summary()))
        if self.trace is not None:
            rows.append(("calls traced", self.trace.summary()))
        return rows

    def parts(self) -> list:
        parts = [self.store, self.external] + [p for p in (self.secret, self.trace) if p is not None]
        if self.trace is not None and self.trace.ok:
            parts.append(self.trace.diagram())
        return parts

    def _ipython_display_(self):
        from .display import show_all
        show_all(*self.parts())


def sync_for_real(cluster, store: Manifest, external: Manifest, *, timeout: float = DEFAULT_TIMEOUT,
                  reveal: bool = False, audit_log=None, akeyless=None,
                  progress: Callable[[str], None] | None = print) -> LiveSync:
    """Apply the SecretStore and the ExternalSecret, wait for the controller's verdicts (bounded), read
    the Secret it wrote and, given the API server's audit log and an Akeyless admin session of the lab,
    trace the calls it made on the way."""
    since = time.time()
    apply(cluster, store)
    store_status = wait(cluster, store, timeout=timeout, progress=progress)
    existed = cluster.get_object(*_identity(external)) is not None
    apply(cluster, external)
    if existed:     # an unchanged object is not reconciled again before refreshInterval: ask for it
        force_sync(cluster, external)
    external_status = wait(cluster, external, timeout=timeout, since=since, progress=progress)
    secret = None
    if external_status.ok:
        target = external.body["spec"]["target"]["name"]
        secret = cluster.read_secret(external.body["metadata"]["namespace"], target, reveal=reveal)
    found = None
    if audit_log is not None and akeyless is not None:
        from . import eso_trace
        found = eso_trace.trace(audit_log, akeyless, since=since - 0.5,
                                namespace=external.body["metadata"]["namespace"])
    return LiveSync(store_status, external_status, secret, found)


def isolated(store: Manifest, external: Manifest, name: str) -> tuple[Manifest, Manifest]:
    """The same SecretStore and ExternalSecret under names of their own (store, ExternalSecret and
    target Secret all `name`), so a demonstration never touches the chapter's objects or Secret."""
    store_body = {**store.body, "metadata": {**store.body["metadata"], "name": name}}
    spec = external.body["spec"]
    ext_body = {**external.body, "metadata": {**external.body["metadata"], "name": name},
                "spec": {**spec, "secretStoreRef": {"name": name, "kind": store.kind},
                         "target": {**spec["target"], "name": name}}}
    return Manifest(store_body), Manifest(ext_body)


def reproduce(cluster, store: Manifest, external: Manifest, *, name: str = "broken",
              timeout: float = DEFAULT_TIMEOUT) -> ControllerStatus:
    """A failure cell on the real controller: apply a deliberately broken SecretStore + ExternalSecret
    (under `name`), return ESO's verdict on the ExternalSecret (its condition and the Warning event
    that carries the provider's error), then delete both so nothing broken stays behind."""
    store, external = isolated(store, external, name)
    try:
        return sync_for_real(cluster, store, external, timeout=timeout, progress=None).external
    finally:
        delete(cluster, external)
        delete(cluster, store)
