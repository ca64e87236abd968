"""External Secrets Operator's side of the flow: the manifests a learner applies, and what ESO's Akeyless
provider does on each sync, replayed step by step with the same requests ESO sends.

The sync here is a faithful re-enactment for teaching (ESO itself needs a controller and CRDs): it mints a
fresh 600-second token for the referenced ServiceAccount (ESO caches nothing), sends `/auth` with the exact
body akeyless-go produces, reads the item, and writes the Kubernetes Secret with ESO's labels.
"""
from __future__ import annotations

import base64
import hashlib
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import yaml

from .display import Result, mask_secret
from .tokens import redact

API_VERSION = "external-secrets.io/v1"
ESO_TOKEN_SECONDS = 600          # ESO's TokenRequest always asks for exactly ten minutes
MOUNTED_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"   # where ESO says it looked, failing
MANAGED_LABEL = "reconcile.external-secrets.io/managed"
OWNER_LABEL = "reconcile.external-secrets.io/created-by"      # creationPolicy Owner only
HASH_ANNOTATION = "reconcile.external-secrets.io/data-hash"


# --- manifests -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Manifest(Result):
    """A Kubernetes manifest, shown as the YAML a learner would `kubectl apply`."""

    body: dict

    title = "manifest"

    @property
    def kind(self) -> str:
        return self.body["kind"]

    def yaml(self) -> str:
        return yaml.safe_dump(self.body, sort_keys=False)

    def summary(self) -> str:
        meta = self.body["metadata"]
        where = f"{meta['namespace']}/" if "namespace" in meta else ""
        return f"{self.kind} {where}{meta['name']} ({self.body['apiVersion']})"

    def _repr_html_(self) -> str:
        import html
        return (f"<b>{html.escape(self.summary())}</b>"
                f"<pre style='background:#f6f8fa;padding:6px'>{html.escape(self.yaml())}</pre>")


def secret_store(name: str, namespace: str | None, gateway_url: str, access_id: str, k8s_conf_name: str,
                 service_account: str, audiences: list[str] | None = None, ca_bundle_pem: str | None = None,
                 service_account_namespace: str | None = None) -> Manifest:
    """A SecretStore (namespace given) or ClusterSecretStore (namespace None) using Kubernetes auth.

    A ClusterSecretStore must name the ServiceAccount's namespace: without it ESO looks for the
    ServiceAccount in the ExternalSecret's namespace, a classic source of `serviceaccounts "x" not found`.
    """
    sa_ref: dict[str, Any] = {"name": service_account}
    if namespace is None:
        sa_ref["namespace"] = service_account_namespace or "default"
    if audiences:
        sa_ref["audiences"] = list(audiences)
    provider: dict[str, Any] = {
        "akeylessGWApiURL": gateway_url,
        "authSecretRef": {"kubernetesAuth": {"accessID": access_id, "k8sConfName": k8s_conf_name,
                                             "serviceAccountRef": sa_ref}},
    }
    if ca_bundle_pem:
        provider["caBundle"] = base64.b64encode(ca_bundle_pem.encode()).decode()
    metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
    return Manifest({"apiVersion": API_VERSION, "kind": "SecretStore" if namespace else "ClusterSecretStore",
                     "metadata": metadata, "spec": {"provider": {"akeyless": provider}}})


def external_secret(name: str, namespace: str, store: Manifest, target_secret: str,
                    data: dict[str, str], refresh_interval: str = "1h") -> Manifest:
    """An ExternalSecret: `data` maps Kubernetes Secret keys to Akeyless item paths."""
    return Manifest({
        "apiVersion": API_VERSION, "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "refreshInterval": refresh_interval,
            "secretStoreRef": {"name": store.body["metadata"]["name"], "kind": store.kind},
            "target": {"name": target_secret, "creationPolicy": "Owner"},
            "data": [{"secretKey": key, "remoteRef": {"key": path}} for key, path in data.items()],
        },
    })


# --- the provider's wire calls ---------------------------------------------------------------------

def auth_body(access_id: str, k8s_conf_name: str, jwt: str) -> dict:
    """`/auth` exactly as ESO sends it: akeyless-go's NewAuthWithDefaults() plus the k8s fields,
    the JWT base64-encoded."""
    return {"access-id": access_id, "access-type": "k8s", "gcp-audience": "akeyless.io", "json": False,
            "oci-auth-type": "apikey", "k8s-service-account-token": base64.b64encode(jwt.encode()).decode(),
            "k8s-auth-config-name": k8s_conf_name}


def redacted_auth_body(body: dict) -> dict:
    """The same body for display: the base64 JWT decoded and its signature masked."""
    shown = dict(body)
    jwt = base64.b64decode(body["k8s-service-account-token"]).decode()
    shown["k8s-service-account-token"] = f"base64({redact(jwt)})"
    return shown


@dataclass
class WireCall:
    """One HTTP exchange with the gateway, kept for display (token and secret values masked)."""

    command: str
    request: dict
    status: int
    response: Any

    def row(self) -> tuple[str, str]:
        return (f"POST /{self.command} -> {self.status}", json.dumps(self.response)[:300])


class GatewayError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(body)
        self.status = status
        self.body = body


def post_command(url: str, command: str, body: dict, ca_pem: str | None, timeout: float = 15) -> tuple[int, Any]:
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem and url.startswith("https") else None
    request = urllib.request.Request(f"{url.rstrip('/')}/{command}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise GatewayError(exc.code, exc.read().decode(errors="replace")) from None
    except (urllib.error.URLError, ssl.SSLError, OSError) as exc:
        raise GatewayError(0, str(getattr(exc, "reason", exc))) from None


@dataclass
class AuthAnswer(Result):
    """ESO's `/auth` exchange: the body it sent (JWT redacted) and the gateway's answer (token masked)."""

    request: dict
    status: int
    token: str = field(default="", repr=False)
    sub_claims: dict = field(default_factory=dict)
    error: str = ""

    title = "POST /auth (as ESO sends it)"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return not self.error

    def summary(self) -> str:
        if self.error:
            return f"authentication failed: {self.error}"
        claims = ", ".join(f"{k}={','.join(v)}" for k, v in sorted(self.sub_claims.items())
                           if k in ("namespace", "service_account_name", "config_name"))
        return f"gateway issued a t- token; sub-claims {claims}"

    def rows(self):
        rows = [("request body", json.dumps(self.request, indent=1)), ("HTTP status", self.status)]
        if self.error:
            return rows + [("error", self.error)]
        rows.append(("token", "t-" + mask_secret(self.token[2:])))
        return rows + [(f"sub-claim {k}", ", ".join(v)) for k, v in sorted(self.sub_claims.items())]


def authenticate(url: str, body: dict, ca_pem: str | None = None, timeout: float = 15) -> AuthAnswer:
    """POST the `/auth` body and keep the exchange; a refusal is returned, not raised."""
    shown = redacted_auth_body(body)
    try:
        status, answer = post_command(url, "auth", body, ca_pem, timeout)
    except GatewayError as exc:
        return AuthAnswer(shown, exc.status, error=exc.body)
    claims = ((answer.get("creds") or {}).get("sub_claims")) or {}
    return AuthAnswer(shown, status, token=answer.get("token", ""), sub_claims=dict(claims))


# --- one sync, as the ExternalSecret controller runs it --------------------------------------------

@dataclass
class SyncResult(Result):
    """What one reconcile of an ExternalSecret did: the condition ESO would set, and every exchange."""

    external_secret: str
    target_secret: str
    reason: str                         # SecretSynced or SecretSyncedError
    message: str
    token: str = field(default="", repr=False)
    auth_request: dict = field(default_factory=dict)
    calls: list[WireCall] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    secret_manifest: dict = field(default_factory=dict)

    title = "ExternalSecret sync"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.reason == "SecretSynced"

    def summary(self) -> str:
        return f"{self.external_secret}: {self.reason}: {self.message}"

    def rows(self):
        rows = [("condition", f"Ready={self.ok} reason={self.reason}"), ("message", self.message)]
        if self.token:
            rows.append(("ServiceAccount JWT (600 s)", redact(self.token)))
        rows += [call.row() for call in self.calls]
        rows += [(f"Secret {self.target_secret}[{k}]", mask_secret(v)) for k, v in self.values.items()]
        return rows


def sync(cluster, external: Manifest, store: Manifest, ca_pem: str | None = None,
         write: bool = True, owner_uid: str | None = None) -> SyncResult:
    """Reconcile `external` the way ESO's Akeyless provider does; never raises for a sync failure.

    `owner_uid` is the ExternalSecret's uid when it exists as an object (a cluster with ESO's CRDs):
    the Secret then gets ESO's ownerReference, so deleting the ExternalSecret garbage-collects it.
    The emulator has no ExternalSecret objects, so there the Secret has no owner."""
    spec = external.body["spec"]
    namespace = external.body["metadata"]["namespace"]
    name = external.body["metadata"]["name"]
    target = spec["target"]["name"]
    provider = store.body["spec"]["provider"]["akeyless"]
    k8s = provider["authSecretRef"]["kubernetesAuth"]
    sa_ref = k8s["serviceAccountRef"]
    sa_namespace = sa_ref.get("namespace", namespace) if store.kind == "ClusterSecretStore" else namespace
    result = SyncResult(name, target, "SecretSyncedError", "")
    url = provider["akeylessGWApiURL"]
    if provider.get("caBundle"):
        ca_pem = base64.b64decode(provider["caBundle"]).decode()

    for index, item in enumerate(spec["data"]):
        key = item["remoteRef"]["key"]
        where = f"error processing spec.data[{index}] (key: {key}), err: "
        # each data[] entry authenticates afresh: ESO keeps no token between calls
        token_result = cluster.request_token(sa_namespace, sa_ref["name"], audiences=sa_ref.get("audiences"),
                                             expiration_seconds=ESO_TOKEN_SECONDS)
        if not token_result.ok:
            # v0.16.2 wraps every failure to get the JWT in the mounted-token sentence, whatever the cause
            result.message = (f"{where}failed to read JWT with Kubernetes Auth from {MOUNTED_TOKEN}. error: cannot "
                              f"request Kubernetes service account token for service account "
                              f"\"{sa_ref['name']}\": {token_result.error}")
            return result
        result.token = token_result.token
        answer = authenticate(url, auth_body(k8s["accessID"], k8s["k8sConfName"], token_result.token), ca_pem)
        result.auth_request = answer.request
        result.calls.append(WireCall("auth", answer.request, answer.status,
                                     {"error": answer.error} if answer.error else {"token": mask_secret(answer.token)}))
        if not answer.ok:
            result.message = f"{where}authentication failed: {answer.error}"
            return result
        command = "describe-item"
        try:
            status, described = post_command(url, "describe-item", {"name": key, "token": answer.token}, ca_pem)
            result.calls.append(WireCall("describe-item", {"name": key}, status,
                                         {k: described.get(k) for k in ("item_name", "item_type", "last_version")}))
            command = "get-secret-value"
            request = {"names": [key], "version": 0, "token": answer.token}
            status, values = post_command(url, "get-secret-value", request, ca_pem)
            result.calls.append(WireCall("get-secret-value", {"names": [key], "version": 0}, status,
                                         {key: mask_secret(str(values.get(key)))}))
        except GatewayError as exc:
            result.message = where + provider_error(command, key, exc)
            return result
        if key not in values:
            result.message = f"{where}can't get secret: {key}"
            return result
        result.values[item["secretKey"]] = str(values[key])

    owned = spec["target"].get("creationPolicy", "Owner") == "Owner"
    result.secret_manifest = secret_body(namespace, target, name, result.values, owned=owned, owner_uid=owner_uid)
    if write:
        meta = result.secret_manifest["metadata"]
        cluster.write_secret(namespace, target, result.values, labels=meta["labels"],
                             annotations=meta["annotations"], owner_references=meta.get("ownerReferences"))
    result.reason, result.message = "SecretSynced", "secret synced"
    return result


def provider_error(command: str, key: str, exc: GatewayError) -> str:
    """ESO's wording for a failed call after /auth, as the v0.16.2 provider the lab runs words it: a
    describe-item error whose body is JSON (every gateway error is) is swallowed and the empty item
    reported as "item does not exist", whatever the status (401 and 403 included; v2.9 reports those
    as they are); only a body that is not JSON is quoted."""
    if exc.status == 0:          # no HTTP answer: Go's transport error, wrapped without the body
        return f"can't {'describe item' if command == 'describe-item' else 'get secret value'}: {exc.body}"
    if command == "describe-item":
        try:
            json.loads(exc.body)
        except ValueError:
            return f"can't describe item: {key}, error: {exc.body}"
        return "item does not exist"
    return f"can't get secret value: {exc.body}"


def go_map_text(values: dict[str, bytes]) -> str:
    """What Go's fmt `%+v` prints for a map[string][]byte (keys sorted, bytes as decimal lists): the
    text ESO hashes."""
    return "map[" + " ".join(f"{k}:[{' '.join(str(b) for b in v)}]" for k, v in sorted(values.items())) + "]"


def object_hash(text: str) -> str:
    """ESO's utils.ObjectHash: SHA3-224 of the value's `%+v` text, in hex."""
    return hashlib.sha3_224(text.encode()).hexdigest()


def data_hash(values: dict[str, str]) -> str:
    """The `reconcile.external-secrets.io/data-hash` ESO puts on the Secret it writes (the hash of its data)."""
    return object_hash(go_map_text({k: v.encode() for k, v in values.items()}))


def secret_body(namespace: str, name: str, owner: str, values: dict[str, str], *, owned: bool = True,
                owner_uid: str | None = None) -> dict:
    """The Secret ESO writes for ExternalSecret `owner`: its managed label, with creationPolicy Owner
    the created-by label (the hash of "<namespace>/<ExternalSecret>") and, when the ExternalSecret's
    uid is known, a controller ownerReference; the data-hash annotation."""
    labels = {MANAGED_LABEL: "true"}
    if owned:
        labels[OWNER_LABEL] = object_hash(f"{namespace}/{owner}")
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels,
                                "annotations": {HASH_ANNOTATION: data_hash(values)}}
    if owned and owner_uid:
        metadata["ownerReferences"] = [{"apiVersion": API_VERSION, "kind": "ExternalSecret", "name": owner,
                                        "uid": owner_uid, "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata,
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}
