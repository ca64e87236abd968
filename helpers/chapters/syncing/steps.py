"""The step table of chapter 3's diagram (diagrams/03_eso_reconcile_loop.mmd): one reconcile of an
ExternalSecret, in the order ESO v0.16.2 makes its calls, and which traced call is evidence of each step."""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import ParameterError

DIAGRAM = "03_eso_reconcile_loop"


@dataclass(frozen=True)
class Step:
    number: int
    id: str
    title: str
    carries: str
    evidence: tuple        # substrings of eso_trace call labels that show this step happened ("" = status only)


STEPS: tuple[Step, ...] = (
    Step(1, "token-request", "ESO asks the API server for the ServiceAccount's token",
         "TokenRequest for serviceAccountRef: 600 s, the store's audiences; ESO caches nothing",
         ("TokenRequest",)),
    Step(2, "auth", "ESO logs in to Akeyless with that token",
         "POST /auth (access-type k8s); the gateway runs a TokenReview and answers with a t- token",
         ("/auth", "TokenReview")),
    Step(3, "describe", "ESO asks what kind of item the key is", "POST /describe-item: STATIC_SECRET, versions",
         ("/describe-item",)),
    Step(4, "get-value", "ESO reads the value", "POST /get-secret-value with the version (0 = latest)",
         ("/get-secret-value", "/list-items")),
    Step(5, "write", "ESO writes the Kubernetes Secret", "the Secret's data, the data-hash annotation, the owner",
         ("secret ",)),
    Step(6, "requeue", "ESO records the sync and requeues", "status refreshTime, syncedResourceVersion, Ready; "
         "the next reconcile after refreshInterval", ()),
)


def step_of(ref: int | str) -> Step:
    for s in STEPS:
        if ref in (s.number, s.id):
            return s
    raise ParameterError("step", ref, f"the reconcile loop has steps 1..{len(STEPS)}", 1)
