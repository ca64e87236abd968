"""Chapter 2's steps as the lab's records show them: for each step, which audit entry proves an attendee
reached it. Read from what the gateway recorded, never from the notebook, so the board works whether an
attendee runs the chapter in JupyterLab, papermill or by hand with the akeyless CLI.

The chapter's TokenRequests leave no record on the Akeyless side (the Kubernetes emulator keeps no audit
log), so the token steps are seen through the first Kubernetes login that follows them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .roster import Attendee


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    section: str
    reached_by: Callable[[Attendee, dict], bool]
    demonstrates_failures: bool = False     # refusals met here are the chapter's own demonstrations
    last_on_path: bool = False              # counts only if nothing touched the path afterwards (a final delete)


def _by(entry: dict, method: str) -> bool:
    return entry.get("auth_method") == method


def _cmd(entry: dict, command: str, path: str) -> bool:
    return entry.get("command") == command and entry.get("path") == path and entry.get("allowed")


STEPS: tuple[Step, ...] = (
    Step("seed", "secret stored", "why authentication matters",
         lambda a, e: _cmd(e, "create-secret", a.secret_path)),
    Step("outsider", "outsider refused", "why authentication matters",
         lambda a, e: _by(e, a.other_team_auth_method) and e.get("command") == "get-secret-value",
         demonstrates_failures=True),
    Step("api-key", "API-key login", "authentication methods",
         lambda a, e: _by(e, a.api_key_auth_method) and _cmd(e, "get-secret-value", a.secret_path)),
    Step("auth-method", "auth method created", "setting up the auth method",
         lambda a, e: _cmd(e, "create-auth-method-k8s", a.auth_method)),
    Step("gateway-config", "gateway config", "setting up the auth method",
         lambda a, e: _cmd(e, "gateway-create-k8s-auth-config", a.k8s_conf_name)),
    Step("role", "role and sub-claims", "access roles",
         lambda a, e: _cmd(e, "assoc-role-am", a.role)),
    Step("login", "Kubernetes login", "the flow, step by step",
         lambda a, e: _by(e, a.auth_method) and e.get("command") == "auth" and e.get("allowed")),
    # after the first sync, every refusal the chapter causes is a security demonstration (revoked token...)
    Step("synced", "secret read via ESO", "the flow, step by step",
         lambda a, e: _by(e, a.auth_method) and _cmd(e, "get-secret-value", a.secret_path),
         demonstrates_failures=True),
    Step("security", "least privilege shown", "security benefits",
         lambda a, e: _by(e, a.auth_method) and e.get("command") == "get-secret-value"
         and e.get("path") == a.other_secret_path, demonstrates_failures=True),
    Step("failures", "failures reproduced", "when it goes wrong",
         lambda a, e: _by(e, a.auth_method) and e.get("command") == "auth" and not e.get("allowed")
         and "namespace" in (e.get("reason") or "") and a.other_namespace in (e.get("reason") or ""),
         demonstrates_failures=True),
    Step("cleanup", "cleaned up", "cleanup",
         lambda a, e: _cmd(e, "delete-auth-method", a.auth_method), last_on_path=True),
)
LAST = STEPS[-1].id

