"""What actually happened on one sync, from the servers' own records: the kube-apiserver's audit log
(ESO's TokenRequest, the gateway's TokenReview, ESO reading and writing Secrets) and the Akeyless
gateway's audit log (ESO's /auth, describe-item, get-secret-value), merged in time order and drawn as
a Mermaid sequence diagram with each call's time and latency. ESO's user agents are what the servers
saw: `eso-controller/...` towards the API server, and no User-Agent header at all towards Akeyless.

Nothing here is drawn by hand: a call that did not happen is not on the diagram. Reading the API
server's audit log needs the file (the lab writes .lab/apiserver-audit.log); on AKS, the same records
are in the cluster's diagnostic logs (kube-audit), which this module does not fetch.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import akeyless_client as ak
from .cluster_results import service_account_user
from .display import Result
from .eso_controller import parse_time

ESO = "ESO"
API = "API"
GATEWAY = "GW"
PARTICIPANTS = {ESO: "ESO controller", API: "kube-apiserver", GATEWAY: "Akeyless gateway"}
# ESO v0.16.2 builds akeyless-go's Configuration without a UserAgent, and Go's HTTP client sends no
# User-Agent header when it is set empty: ESO's calls to the gateway are the ones with none.
ESO_GATEWAY_AGENT = ""
GATEWAY_COMMANDS = ("auth", "describe-item", "get-secret-value", "get-rotated-secret-value",
                    "get-dynamic-secret-value", "list-items")


@dataclass(frozen=True)
class Call:
    """One request seen by a server: who called, what, when it arrived, how long it took, the answer."""

    start: float
    source: str
    target: str
    label: str
    latency_ms: float | None
    status: int | None
    user_agent: str = ""
    detail: str = ""


def apiserver_calls(audit_log: str | Path, *, since: float = 0.0, eso_user: str | None = None,
                    namespace: str | None = None) -> list[Call]:
    """The kube-apiserver's audit records since `since`: TokenRequests and TokenReviews, and what
    ESO's ServiceAccount did to Secrets (`eso_user`, default external-secrets/external-secrets)."""
    eso_user = eso_user or service_account_user("external-secrets", "external-secrets")
    calls = []
    try:
        lines = Path(audit_log).read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue        # a line being written
        if event.get("stage") != "ResponseComplete":
            continue
        start = parse_time(event["requestReceivedTimestamp"])
        if start < since:
            continue
        ref = event.get("objectRef") or {}
        if namespace and ref.get("namespace") not in (namespace, None):
            continue
        user = (event.get("user") or {}).get("username", "")
        latency = (parse_time(event["stageTimestamp"]) - start) * 1000
        code = (event.get("responseStatus") or {}).get("code")
        agent = event.get("userAgent", "")
        resource = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        if resource == "serviceaccounts/token" and user == eso_user:
            spec = (event.get("requestObject") or {}).get("spec") or {}
            label = (f"TokenRequest {ref.get('namespace')}/{ref.get('name')} "
                     f"aud={','.join(spec.get('audiences') or []) or '(default)'} {spec.get('expirationSeconds')} s")
            calls.append(Call(start, ESO, API, label, latency, code, agent))
        elif resource == "tokenreviews":
            calls.append(Call(start, GATEWAY, API, f"TokenReview as {user.rsplit(':', 1)[-1]}", latency, code, agent))
        elif user == eso_user and ref.get("resource") in ("secrets", "serviceaccounts") \
                and event.get("verb") in ("get", "create", "update", "patch"):
            label = f"{event['verb']} {ref.get('resource')[:-1]} {ref.get('namespace')}/{ref.get('name', '')}"
            calls.append(Call(start, ESO, API, label, latency, code, agent))
    return calls


def gateway_calls(session, *, since: float = 0.0, limit: int = 500, user_agent: str | None = None) -> list[Call]:
    """The lab gateway's audit records since `since` for the calls ESO's provider makes (only those
    sent with `user_agent` when given). Lab only (a real Akeyless account shows them in its console's
    audit logs)."""
    entries = ak.audit_log(session, limit=limit).entries
    until = time.time() + 1     # a record stamped later comes from a lab clock moved ahead, not from this sync
    calls = []
    for entry in entries:
        ts, duration = entry.get("ts") or 0.0, entry.get("duration_ms")
        start = ts - (duration or 0) / 1000
        if not since <= start <= until or entry.get("command") not in GATEWAY_COMMANDS:
            continue
        if user_agent is not None and entry.get("user_agent", "") != user_agent:
            continue
        label = f"/{entry['command']}" + (f" {entry['path']}" if entry.get("path") else "")
        outcome = "allowed" if entry.get("allowed") else f"denied: {entry.get('reason', '')}"
        calls.append(Call(start, ESO, GATEWAY, label, duration, entry.get("status"), entry.get("user_agent", ""),
                          outcome))
    return calls


@dataclass
class Trace(Result):
    """The calls of one sync, in time order, from both servers' records."""

    calls: list = field(default_factory=list)
    title = "what ESO did (from the servers' audit logs)"

    @classmethod
    def merge(cls, *sources: list[Call]) -> "Trace":
        return cls(sorted((c for source in sources for c in source), key=lambda c: c.start))

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return bool(self.calls)

    def user_agents(self, target: str) -> set[str]:
        """The User-Agent headers of ESO's calls to one server (API or GW); "" is none sent."""
        return {c.user_agent for c in self.calls if c.source == ESO and c.target == target}

    def summary(self) -> str:
        if not self.calls:
            return "no call recorded in the window (did the sync run? is the audit log enabled?)"
        span = (self.calls[-1].start - self.calls[0].start) * 1000
        return f"{len(self.calls)} calls in {span:.0f} ms, " + ", ".join(
            f"{sum(1 for c in self.calls if c.target == t)} to the {PARTICIPANTS[t]}" for t in (API, GATEWAY))

    def rows(self):
        t0 = self.calls[0].start if self.calls else 0
        return [(f"+{(c.start - t0) * 1000:.0f} ms", f"{PARTICIPANTS[c.source]} -> {PARTICIPANTS[c.target]}: "
                 f"{c.label} -> {c.status} in {_ms(c.latency_ms)} [User-Agent: {c.user_agent or '(none)'}]")
                for c in self.calls]

    def mermaid(self) -> str:
        """A sequence diagram: one arrow per call (label, time since the first call, latency) and its answer."""
        lines = ["sequenceDiagram"] + [f"    participant {key} as {name}" for key, name in PARTICIPANTS.items()]
        t0 = self.calls[0].start if self.calls else 0
        for c in self.calls:
            lines.append(f"    {c.source}->>{c.target}: {_safe(c.label)} (+{(c.start - t0) * 1000:.0f} ms)")
            lines.append(f"    {c.target}-->>{c.source}: {c.status} in {_ms(c.latency_ms)}"
                         + (f" {_safe(c.detail)}" if c.detail and c.detail != "allowed" else ""))
        if not self.calls:
            lines.append(f"    Note over {ESO},{GATEWAY}: no call recorded")
        return "\n".join(lines) + "\n"

    def diagram(self):
        from . import diagrams
        return diagrams.Diagram(name="eso-sync-trace", source=self.mermaid(),
                                caption="traced from the kube-apiserver's and the gateway's audit logs")


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} ms"


def _safe(text: str) -> str:
    """Mermaid message text: no statement separators or comment starts."""
    return text.replace(";", ",").replace("#", "").replace("%%", "%")[:120]


def trace(audit_log: str | Path, session, *, since: float, namespace: str | None = None,
          eso_user: str | None = None) -> Trace:
    """Everything ESO and the gateway did since `since`, from both audit logs."""
    return Trace.merge(apiserver_calls(audit_log, since=since, namespace=namespace, eso_user=eso_user),
                       gateway_calls(session, since=since, user_agent=ESO_GATEWAY_AGENT))
