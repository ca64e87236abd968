"""Step 1 as a cluster does it: the workload is a Pod, and its token is bound to that Pod.

On a control plane with no nodes (the lab's real stack) the Pod is admitted and stays Pending, which
is all this step needs: the ServiceAccount admission plugin has already added the projected token
volume a kubelet would fill, and a TokenRequest bound to the Pod (what the kubelet sends) yields the
JWT with the `kubernetes.io.pod` claims that Akeyless turns into the `pod_name` sub-claim.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import tokens
from .cluster_results import TokenResult
from .display import Result

POD_NAME = "workload"


def _source_line(source: dict) -> str:
    if "serviceAccountToken" in source:
        t = source["serviceAccountToken"]
        return (f"serviceAccountToken path={t.get('path')} expirationSeconds={t.get('expirationSeconds')}"
                + (f" audience={t['audience']}" if t.get("audience") else " audience=(API server default)"))
    if "configMap" in source:
        return f"configMap {source['configMap'].get('name')}"
    if "downwardAPI" in source:
        return "downwardAPI " + ", ".join(i.get("path", "") for i in source["downwardAPI"].get("items") or [])
    return ", ".join(source)


@dataclass
class WorkloadPod(Result):
    """The Pod as the API server stored it (admission included) and a token bound to it."""

    namespace: str
    name: str
    uid: str
    phase: str
    service_account: str
    projected: list = field(default_factory=list)      # (volume name, [source lines], mount path)
    token: TokenResult | None = None

    title = "the workload Pod and its token"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return bool(self.token and self.token.ok)

    @property
    def pod_claims(self) -> dict:
        if not self.ok:
            return {}
        return (tokens.decode(self.token.token).claims.get("kubernetes.io") or {}).get("pod") or {}

    def summary(self) -> str:
        volumes = ", ".join(name for name, _, _ in self.projected) or "no projected volume"
        bound = f"token bound to pod {self.pod_claims.get('name')}" if self.ok else f"no token: {self.token.error}"
        return f"Pod {self.namespace}/{self.name} ({self.phase}, as {self.service_account}): {volumes}; {bound}"

    def rows(self):
        rows = [("phase", f"{self.phase} (no node runs it: the API server admitted it, nothing schedules it)"),
                ("serviceAccountName", self.service_account), ("uid", self.uid)]
        for name, sources, mount in self.projected:
            rows.append((f"projected volume {name}", f"mounted at {mount}: " + "; ".join(sources)))
        if self.ok:
            claims = tokens.decode(self.token.token).claims
            rows += [("token (bound to the Pod)", tokens.redact(self.token.token)),
                     ("claim kubernetes.io.pod", str(self.pod_claims)),
                     ("claim kubernetes.io.serviceaccount", str((claims.get("kubernetes.io") or {}).get("serviceaccount"))),
                     ("claim aud", str(claims.get("aud")))]
        elif self.token:
            rows.append(("token", self.token.error))
        return rows


def run_pod(cluster, namespace: str, service_account: str, *, audience: str, name: str = POD_NAME,
            expiration_seconds: int = 600) -> WorkloadPod:
    """Create (or re-create) the workload Pod as `service_account`, then request a token bound to it
    with `audience`, as the kubelet does for a projected volume."""
    pod = cluster.create_pod(namespace, name, service_account)
    mounts = {m["name"]: m["mountPath"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts") or []}
    projected = [(v["name"], [_source_line(s) for s in v["projected"].get("sources") or []], mounts.get(v["name"], "-"))
                 for v in pod["spec"].get("volumes") or [] if "projected" in v]
    token = cluster.request_pod_token(namespace, pod, [audience], expiration_seconds)
    return WorkloadPod(namespace, name, pod["metadata"]["uid"], (pod.get("status") or {}).get("phase", "Pending"),
                       pod["spec"].get("serviceAccountName", "default"), projected, token)
