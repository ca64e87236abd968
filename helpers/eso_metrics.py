"""ESO's Prometheus metrics endpoint, read from the client side: how many times each of the controller's
reconcilers ran and failed, and the ExternalSecret sync counters ESO keeps per object.

The endpoint is the controller's `--metrics-addr` (the lab binds it to 127.0.0.1 and records it under
`components["external-secrets"]`); in a cluster it is the `external-secrets-metrics` Service on :8080,
reached with `kubectl port-forward`. Parsing goes through prometheus_client's text parser (a dependency
of jupyter_server, so already installed with JupyterLab).
"""
from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass, field

from .display import Result
from .errors import LabError

# ESO v0.16.2's counters (pkg/controllers/externalsecret/esmetrics, pkg/metrics) and controller-runtime's,
# by family name: the parser drops a counter's `_total` (and adds it to `_error`'s samples), so the
# families are matched, not the sample names.
SYNC_CALLS = "externalsecret_sync_calls"              # externalsecret_sync_calls_total{name,namespace}
SYNC_ERRORS = "externalsecret_sync_calls_error"       # externalsecret_sync_calls_error{name,namespace}
RECONCILES = "controller_runtime_reconcile"           # controller_runtime_reconcile_total{controller,result}
RECONCILE_ERRORS = "controller_runtime_reconcile_errors"
PROVIDER_CALLS = "externalsecret_provider_api_calls_count"   # {provider,call,status}
COMPONENT = "external-secrets"


class MetricsUnavailable(LabError):
    hint = ("the metrics endpoint is ESO's --metrics-addr: on the lab `python -m helpers lab status` prints it "
            "(real stack only); in a cluster `kubectl -n external-secrets port-forward svc/external-secrets-metrics "
            "8080` and pass url='http://127.0.0.1:8080/metrics'")


def metrics_url(lab=None, url: str | None = None) -> str:
    """The given URL, else the one the lab (a LabInfo: `session.lab`) recorded for its ESO controller."""
    if url:
        return url
    where = (getattr(lab, "components", None) or {}).get(COMPONENT, "")
    if not where.startswith("http"):
        raise MetricsUnavailable("no ESO controller runs beside this lab, so there is no metrics endpoint to read"
                                 + (f" ({where})" if where else ""))
    return where


@dataclass
class ControllerMetrics(Result):
    """One reading of the endpoint. `reconciles[kind]` counts results (success, error, requeue,
    requeue_after) of the reconciler for that kind; `sync_calls`/`sync_errors` are ESO's own
    counters per ExternalSecret, keyed (namespace, name)."""

    url: str
    reconciles: dict = field(default_factory=dict)       # "externalsecret" -> {"success": 3.0, "error": 1.0, ...}
    reconcile_errors: dict = field(default_factory=dict)  # "externalsecret" -> 1.0
    sync_calls: dict = field(default_factory=dict)       # ("ns", "name") -> 4.0
    sync_errors: dict = field(default_factory=dict)
    provider_calls: dict = field(default_factory=dict)   # ("GetSecretValue", "success") -> 7.0

    title = "ESO metrics"

    def of(self, namespace: str, name: str) -> tuple[int, int]:
        """(sync calls, sync errors) ESO counted for one ExternalSecret."""
        return int(self.sync_calls.get((namespace, name), 0)), int(self.sync_errors.get((namespace, name), 0))

    def kind(self, kind: str) -> dict:
        """The reconcile counters of one kind's reconciler: total, errors and each result."""
        results = {k: int(v) for k, v in self.reconciles.get(kind.lower(), {}).items()}
        return {"total": sum(results.values()), "errors": int(self.reconcile_errors.get(kind.lower(), 0)), **results}

    def summary(self) -> str:
        es = self.kind("externalsecret")
        ps = self.kind("pushsecret")
        return (f"ExternalSecret reconciles {es['total']} ({es['errors']} errors), "
                f"PushSecret reconciles {ps['total']} ({ps['errors']} errors); "
                f"{len(self.sync_calls)} ExternalSecret(s) counted")

    def rows(self):
        rows = [(f"reconciler {kind}", ", ".join(f"{k} {v}" for k, v in self.kind(kind).items()))
                for kind in sorted(self.reconciles) if self.kind(kind)["total"]]
        rows += [(f"ExternalSecret {ns}/{name}", "sync calls {}, errors {}".format(*self.of(ns, name)))
                 for ns, name in sorted(self.sync_calls)]
        return rows


def parse(text: str, url: str = "") -> ControllerMetrics:
    from prometheus_client.parser import text_string_to_metric_families

    found = ControllerMetrics(url)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith("_created"):      # OpenMetrics creation timestamps, not counts
                continue
            labels, value = sample.labels, sample.value
            if family.name == RECONCILES:
                found.reconciles.setdefault(labels.get("controller", ""), {})[labels.get("result", "")] = value
            elif family.name == RECONCILE_ERRORS:
                found.reconcile_errors[labels.get("controller", "")] = value
            elif family.name in (SYNC_CALLS, SYNC_ERRORS):
                target = found.sync_calls if family.name == SYNC_CALLS else found.sync_errors
                target[(labels.get("namespace", ""), labels.get("name", ""))] = value
            elif family.name == PROVIDER_CALLS:
                key = (labels.get("call", ""), labels.get("status", ""))
                found.provider_calls[key] = found.provider_calls.get(key, 0) + value
    return found


def read(lab=None, url: str | None = None, timeout: float = 5.0) -> ControllerMetrics:
    """Scrape the endpoint once (`url`, else the lab's) and return its counters."""
    where = metrics_url(lab, url)
    try:
        with urllib.request.urlopen(where, timeout=timeout) as answer:
            text = answer.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise MetricsUnavailable(f"ESO's metrics endpoint {where} does not answer: "
                                 f"{getattr(exc, 'reason', exc)}") from None
    return parse(text, where)
