"""The client side of Kubernetes: what the notebooks ask of a cluster, whichever cluster it is.

Only the official `kubernetes` client is used, and nothing here knows about the embedded lab: the
lab is reached through its kubeconfig like kind or AKS, so every call behaves as it would on a real
cluster. Every method returns a small Result (one stable summary line + rows); calls whose failure
*is* the lesson (token requests and reviews, access checks) return a failed Result instead of raising.
"""
from __future__ import annotations

import base64
import json
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from . import tokens
from .cluster_results import (AccessResult, CACertificate, ClusterInfo, Discovery, ObjectResult,
                              RecreatedServiceAccount, ReviewResult, SecretList, SecretResult, StaticCredentialScan,
                              TokenResult, service_account_user)
from .config import Settings
from .errors import ClusterError, ConfigError

AUTH_DELEGATOR = "system:auth-delegator"
DEFAULT_TIMEOUT = 15.0
# Secret keys that hold a credential to an external system rather than an application value:
# finding one in the cluster is exactly what Kubernetes auth makes unnecessary.
STATIC_CREDENTIAL_KEYS = {
    "accessid", "accesskey", "akeylessaccessid", "akeylessaccesskey", "apikey", "apitoken", "authtoken",
    "bearertoken", "token", "secretaccesskey", "clientsecret", "adminpassword",
}


def kubeconfig_for(settings: Settings) -> tuple[str, str | None]:
    """(kubeconfig path, context) for a target: the lab's own file, or the learner's kubeconfig."""
    if settings.is_lab:
        return str(Path(settings.lab_dir) / "kubeconfig"), None
    path = settings.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    # KUBECONFIG may list several files; the client merges only one, so take the first, as documented
    return str(Path(path.split(os.pathsep)[0]).expanduser()), settings.context


def connect(settings: Settings | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> "Cluster":
    """A Cluster for `settings.target`: the lab (its kubeconfig) or a kubeconfig context (kind, AKS, ...)."""
    settings = settings or Settings.load()
    path, context = kubeconfig_for(settings)
    return Cluster.from_kubeconfig(path, context, timeout=timeout)


# --- errors ------------------------------------------------------------------------------------

_FORBIDDEN = re.compile(r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]*)"'
                        r'(?: in API group "(?P<group>[^"]*)")?')


def _status_body(exc: ApiException) -> dict:
    try:
        body = json.loads(exc.body) if exc.body else {}
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


_NOT_FOUND = re.compile(r'(?P<resource>[\w.]+) "(?P<name>[^"]*)" not found')
_IN_NAMESPACE = re.compile(r'in the namespace "(?P<namespace>[^"]*)"')


def _hint(status: int | None, reason: str, message: str, causes: list[dict]) -> str:
    if reason == "Forbidden" or status == 403:
        found = _FORBIDDEN.search(message)
        if found:
            user, verb, resource = found["user"], found["verb"], found["resource"]
            group = found["group"] or ""
            if resource == "tokenreviews":
                return (f'bind "{user}" to the ClusterRole {AUTH_DELEGATOR} (a ClusterRoleBinding): that is '
                        f"the RBAC a token reviewer needs")
            target = f"{resource}.{group}" if group else resource
            scope = _IN_NAMESPACE.search(message)
            where = (f' in namespace "{scope["namespace"]}" (a Role and RoleBinding there, or a ClusterRole)'
                     if scope else " cluster-wide (a ClusterRole and ClusterRoleBinding)")
            return f'grant "{user}" the RBAC to {verb} {target}{where}'
        return "the caller lacks the RBAC for this request: check its Roles/ClusterRoles and their bindings"
    if reason == "Unauthorized" or status == 401:
        return ("the API server did not accept the credentials: the token may be expired, revoked (its "
                "ServiceAccount deleted or recreated) or from another cluster; mint a new one or check the kubeconfig user")
    if reason == "NotFound" or status == 404:
        found = _NOT_FOUND.search(message)
        if found:
            return f'{found["resource"]} "{found["name"]}" does not exist: create it first, or check the spelling'
        return "create it first, or check the namespace and name spelling"
    if reason == "AlreadyExists":
        return "it exists already: use the ensure_*/write_* helpers, which accept existing objects"
    if reason == "Conflict" or status == 409:
        return "the object changed while we worked on it: run the cell again"
    if reason == "Invalid" or status == 422:
        fields = ", ".join(dict.fromkeys(c.get("field", "") for c in causes if c.get("field")))
        return f"fix the field(s) {fields} as the message says" if fields else "fix the request's fields (see the message)"
    if reason == "BadRequest" or status == 400:
        return "the request is malformed: read the message for the offending value"
    if status == 0 or status is None:
        return "check that the API server is running and that the kubeconfig's server URL and CA are right"
    return "read the API server's message above"


def cluster_error(exc: Exception, doing: str = "") -> ClusterError:
    """An ApiException (or a transport failure) as a ClusterError with the API server's own words.

    `doing` prefixes the message ("creating namespace x: ..."); without it the message is the API
    server's text alone, as a gateway or ESO would quote it.
    """
    lead = f"{doing}: " if doing else ""
    if isinstance(exc, ApiException):
        body = _status_body(exc)
        status = exc.status or None
        reason = body.get("reason") or ("" if not exc.status else str(exc.reason or ""))
        message = body.get("message") or (exc.body.strip() if isinstance(exc.body, str) and exc.body.strip()
                                          else str(exc.reason or "").strip())
        causes = (body.get("details") or {}).get("causes") or []
        if not exc.status and "SSLError" in str(exc.reason):
            return ClusterError(f"{lead}TLS failed: {message.splitlines()[-1]}", status=None, reason="TLSError",
                                hint="the API server's certificate does not verify with the kubeconfig's CA: "
                                     "use the cluster's CA (certificate-authority-data) or the right server URL")
        return ClusterError(f"{lead}{message}", status=status, reason=reason,
                            hint=_hint(status, reason, message, causes))
    if isinstance(exc, urllib3.exceptions.HTTPError):
        cause = getattr(exc, "reason", None) or exc
        text = str(cause)
        if isinstance(cause, urllib3.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return ClusterError(f"{lead}TLS failed: {text}", reason="TLSError",
                                hint="the API server's certificate does not verify with the kubeconfig's CA")
        return ClusterError(f"{lead}cannot reach the API server: {text}", reason="Unreachable",
                            hint="check that the cluster (or the lab: `python -m helpers lab up`) is running "
                                 "and that the kubeconfig's server URL is right")
    return ClusterError(f"{lead}{exc}", hint="read the message above")


# --- the CA ------------------------------------------------------------------------------------

# Resources the workshop applies or reads by apiVersion/kind; `kind` -> plural, as discovery names them.
PLURALS = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Secret": "secrets", "Pod": "pods",
           "ConfigMap": "configmaps", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
           "Role": "roles", "RoleBinding": "rolebindings", "CustomResourceDefinition": "customresourcedefinitions",
           "SecretStore": "secretstores", "ClusterSecretStore": "clustersecretstores",
           "ExternalSecret": "externalsecrets", "PushSecret": "pushsecrets",
           "ClusterExternalSecret": "clusterexternalsecrets"}


def object_path(api_version: str, kind: str, namespace: str | None, name: str | None = None) -> str:
    """The REST path of an object (or, without name, of its collection)."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    where = f"/namespaces/{namespace}" if namespace else ""
    if kind not in PLURALS:
        raise ConfigError(f"the workshop does not know the resource of kind {kind!r}",
                          hint=f"known kinds: {', '.join(PLURALS)}")
    return f"{base}{where}/{PLURALS[kind]}" + (f"/{name}" if name else "")


def _ns_meta(name: str, namespace: str | None = None, labels=None, annotations=None) -> k8s.V1ObjectMeta:
    return k8s.V1ObjectMeta(name=name, namespace=namespace, labels=labels or None, annotations=annotations or None)


def _decode_value(raw: str) -> str:
    data = base64.b64decode(raw)
    try:
        return data.decode()
    except UnicodeDecodeError:
        return f"<{len(data)} bytes of binary data>"


def _norm_key(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


class Cluster:
    """One identity talking to one Kubernetes API server (the kubeconfig's user, or a bearer JWT)."""

    def __init__(self, api_client: k8s.ApiClient, *, identity: str, kubeconfig: str | None = None,
                 context: str | None = None, kubeconfig_user: str | None = None, timeout: float = DEFAULT_TIMEOUT):
        self.api_client = api_client
        self.identity = identity
        self.kubeconfig = kubeconfig
        self.context = context
        self.kubeconfig_user = kubeconfig_user
        self.timeout = timeout
        self.core = k8s.CoreV1Api(api_client)
        self.rbac = k8s.RbacAuthorizationV1Api(api_client)
        self.authn = k8s.AuthenticationV1Api(api_client)
        self.authz = k8s.AuthorizationV1Api(api_client)

    @classmethod
    def from_kubeconfig(cls, path: str, context: str | None = None, *,
                        timeout: float = DEFAULT_TIMEOUT) -> "Cluster":
        if not Path(path).exists():
            raise ConfigError(f"kubeconfig {path} does not exist",
                              hint="for the lab run `python -m helpers lab up`; for a cluster set --kubeconfig "
                                   "or $KUBECONFIG (kind: `kind get kubeconfig`, AKS: `az aks get-credentials`)")
        try:
            contexts, current = k8s_config.list_kube_config_contexts(config_file=path)
            chosen = next((c for c in contexts if c["name"] == context), None) if context else current
            if context and chosen is None:
                raise ConfigError(f"context {context!r} is not in {path}",
                                  hint=f"known contexts: {', '.join(c['name'] for c in contexts)}")
            configuration = type.__call__(k8s.Configuration)
            k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration,
                                        persist_config=False)
        except ConfigException as exc:
            raise ConfigError(f"cannot use kubeconfig {path}: {exc}",
                              hint="check the file (`kubectl config view`) and the context name") from None
        user = (chosen or {}).get("context", {}).get("user")
        return cls(k8s.ApiClient(configuration), identity=f"kubeconfig user {user}" if user else "kubeconfig user",
                   kubeconfig=path, context=(chosen or {}).get("name"), kubeconfig_user=user, timeout=timeout)

    # --- plumbing ---

    @property
    def configuration(self) -> k8s.Configuration:
        return self.api_client.configuration

    @property
    def server(self) -> str:
        return self.configuration.host

    def _call(self, doing: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            raise cluster_error(exc, doing) from None

    def _absent(self, doing: str, fn: Callable, *args, **kwargs):
        """Call `fn`; None when the API server answers 404 (the object does not exist)."""
        try:
            return fn(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise cluster_error(exc, doing) from None
        except urllib3.exceptions.HTTPError as exc:
            raise cluster_error(exc, doing) from None

    def get_raw(self, path: str) -> tuple[int, Any]:
        """GET a path that has no typed client method (discovery documents); (status, parsed JSON or text)."""
        method, url, headers, body, post = self.api_client.param_serialize(
            "GET", path, header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
        try:
            response = self.api_client.call_api(method, url, headers, body, post, _request_timeout=self.timeout)
            response.read()
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            raise cluster_error(exc, f"GET {path}") from None
        text = response.data.decode(errors="replace")
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text

    def request(self, method: str, path: str, body: Any = None, *, content_type: str = "application/json",
                query: list[tuple[str, str]] | None = None, doing: str = "") -> Any:
        """One raw API call (server-side apply, custom resources, subresources); the parsed JSON answer,
        or ClusterError with the API server's message."""
        method_, url, headers, payload, post = self.api_client.param_serialize(
            method, path, query_params=query or [], body=body, auth_settings=["BearerToken"],
            header_params={"Accept": "application/json", "Content-Type": content_type})
        try:
            response = self.api_client.call_api(method_, url, headers, payload, post, _request_timeout=self.timeout)
            response.read()
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            raise cluster_error(exc, doing or f"{method} {path}") from None
        if response.status >= 400:
            raise cluster_error(ApiException(http_resp=response), doing or f"{method} {path}")
        return json.loads(response.data or b"null")

    def apply(self, obj: dict, field_manager: str = "workshop") -> dict:
        """`kubectl apply --server-side --force-conflicts` of one object; the object as stored."""
        meta = obj["metadata"]
        return self.request("PATCH", object_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"]),
                            obj, content_type="application/apply-patch+yaml",
                            query=[("fieldManager", field_manager), ("force", "true")],
                            doing=f"applying {obj['kind']} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " "))

    def get_object(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        """Any object by apiVersion/kind (custom resources included); None when it does not exist."""
        try:
            return self.request("GET", object_path(api_version, kind, namespace, name),
                                doing=f"reading {kind} {namespace}/{name}")
        except ClusterError as exc:
            if exc.status == 404:
                return None
            raise

    def delete_object(self, api_version: str, kind: str, namespace: str | None, name: str,
                      propagation: str = "Background") -> ObjectResult:
        try:
            self.request("DELETE", object_path(api_version, kind, namespace, name),
                         {"propagationPolicy": propagation}, doing=f"deleting {kind} {namespace}/{name}")
        except ClusterError as exc:
            if exc.status == 404:
                return ObjectResult(kind, name, namespace, action="absent")
            raise
        return ObjectResult(kind, name, namespace, action="deleted")

    def events_for(self, namespace: str, kind: str, name: str) -> list[dict]:
        """The Events whose involvedObject is this object, oldest first: (time, type, reason, message, source)."""
        listing = self._call(f"listing events of {kind} {namespace}/{name}", self.core.list_namespaced_event, namespace,
                             field_selector=f"involvedObject.kind={kind},involvedObject.name={name}")
        rows = []
        for event in listing.items:
            when = event.last_timestamp or event.event_time or event.first_timestamp or event.metadata.creation_timestamp
            rows.append({"time": when, "type": event.type, "reason": event.reason, "message": event.message,
                         "count": event.count or 1,
                         "source": (event.source.component if event.source else None) or event.reporting_component})
        return sorted(rows, key=lambda r: str(r["time"]))

    def eso_deployments(self) -> list[tuple[str, str, bool]]:
        """ESO controller Deployments installed by its Helm chart: (namespace, name, available)."""
        try:
            found = self.request("GET", "/apis/apps/v1/deployments",
                                 query=[("labelSelector", "app.kubernetes.io/name=external-secrets")],
                                 doing="listing ESO Deployments")
        except ClusterError as exc:
            if exc.status != 404:       # a cluster without the apps API (the lab's emulator) has none
                raise
            return []
        return [(d["metadata"]["namespace"], d["metadata"]["name"], bool((d.get("status") or {}).get("availableReplicas")))
                for d in found.get("items") or []]

    # --- pods (a control plane without nodes: they stay Pending, the API still admits them) ---

    def create_pod(self, namespace: str, name: str, service_account: str, *, image: str = "busybox:1.36",
                   audience: str | None = None, labels: dict | None = None) -> dict:
        """A Pod running as `service_account`, replacing one of the same name. With `audience`, it also
        asks for a projected token with that audience (as a workload that calls Akeyless itself would)."""
        volumes, mounts = [], []
        if audience:
            volumes.append({"name": "akeyless-token", "projected": {"sources": [{"serviceAccountToken": {
                "audience": audience, "expirationSeconds": 600, "path": "token"}}]}})
            mounts.append({"name": "akeyless-token", "mountPath": "/var/run/secrets/akeyless", "readOnly": True})
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
                "spec": {"serviceAccountName": service_account, "volumes": volumes,
                         "containers": [{"name": "app", "image": image, "command": ["sleep", "3600"],
                                         "volumeMounts": mounts}]}}
        existing = self._absent(f"reading Pod {namespace}/{name}", self.core.read_namespaced_pod, name, namespace)
        if existing is not None:
            self._call(f"deleting Pod {namespace}/{name}", self.core.delete_namespaced_pod, name, namespace,
                       grace_period_seconds=0)
            self._wait_gone(lambda: self._absent("", self.core.read_namespaced_pod, name, namespace))
        return self.request("POST", f"/api/v1/namespaces/{namespace}/pods", body,
                            doing=f"creating Pod {namespace}/{name}")

    def read_pod(self, namespace: str, name: str) -> dict:
        return self.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}", doing=f"reading Pod {namespace}/{name}")

    def delete_pod(self, namespace: str, name: str) -> ObjectResult:
        deleted = self._absent(f"deleting Pod {namespace}/{name}", self.core.delete_namespaced_pod, name, namespace,
                               grace_period_seconds=0)
        return ObjectResult("Pod", name, namespace, action="deleted" if deleted is not None else "absent")

    def request_pod_token(self, namespace: str, pod: dict, audiences: list[str] | None = None,
                          expiration_seconds: int = 600) -> TokenResult:
        """The TokenRequest a kubelet makes for a Pod's projected volume: bound to the Pod (name and uid),
        so the token dies with the Pod and carries `kubernetes.io.pod` claims."""
        sa = pod["spec"].get("serviceAccountName") or "default"
        bound = k8s.V1BoundObjectReference(api_version="v1", kind="Pod", name=pod["metadata"]["name"],
                                           uid=pod["metadata"]["uid"])
        requested = tuple(audiences or ())
        spec = k8s.V1TokenRequestSpec(audiences=list(requested), expiration_seconds=int(expiration_seconds),
                                      bound_object_ref=bound)
        try:
            answer = self.core.create_namespaced_service_account_token(
                sa, namespace, k8s.AuthenticationV1TokenRequest(spec=spec), _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            error = cluster_error(exc)
            return TokenResult(namespace, sa, requested, int(expiration_seconds), error=error.message,
                               status=error.status, reason=error.reason, hint=error.hint)
        return TokenResult(namespace, sa, requested, int(expiration_seconds), token=answer.status.token,
                           expiration=answer.status.expiration_timestamp)

    def _wait_gone(self, read: Callable[[], Any], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while read() is not None:
            if time.monotonic() > deadline:
                raise ClusterError("an object being deleted is still there after 30 s",
                                   hint="check for finalizers (`kubectl get -o yaml`)")
            time.sleep(0.1)

    def as_identity(self, token: str) -> "Cluster":
        """The same API server, but acting as the holder of a bearer JWT: that identity's RBAC applies."""
        tokens.split(token)  # a clear error now, rather than a confusing 401 later
        source = self.configuration
        configuration = type.__call__(k8s.Configuration)
        configuration.host = source.host
        configuration.ssl_ca_cert = source.ssl_ca_cert
        configuration.verify_ssl = source.verify_ssl
        configuration.tls_server_name = getattr(source, "tls_server_name", None)
        configuration.proxy = source.proxy
        configuration.api_key = {"BearerToken": f"Bearer {token.strip()}"}
        try:
            who = tokens.decode(token).subject or "bearer token"
        except tokens.TokenError:
            who = "bearer token"
        return Cluster(k8s.ApiClient(configuration), identity=who, kubeconfig=self.kubeconfig, context=self.context,
                       timeout=self.timeout)

    # --- the cluster itself ---

    def ca_certificate(self) -> CACertificate | None:
        """The CA the kubeconfig trusts for this API server (certificate-authority or -data)."""
        path = self.configuration.ssl_ca_cert
        if not path:
            return None
        try:
            return CACertificate.from_pem(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ClusterError(f"the kubeconfig's CA ({path}) cannot be read: {exc}",
                               hint="certificate-authority-data must be base64 of a PEM certificate") from None

    def info(self) -> ClusterInfo:
        try:
            version = self._call("reading the API server version", k8s.VersionApi(self.api_client).get_code)
        except ClusterError as exc:
            if exc.status == 404:  # every API server serves /version: something else answers at this URL
                exc.hint = "the server URL does not point at a Kubernetes API server: check the kubeconfig's server"
            raise
        return ClusterInfo(server=self.server, version=version.git_version, platform=version.platform,
                           context=self.context, user=self.kubeconfig_user, ca=self.ca_certificate(),
                           tls_verified=bool(self.configuration.verify_ssl))

    def discovery(self) -> Discovery:
        """The issuer's /.well-known/openid-configuration: the `iss` every service-account token carries."""
        status, document = self.get_raw("/.well-known/openid-configuration")
        if status != 200 or not isinstance(document, dict):
            message = document.get("message") if isinstance(document, dict) else str(document).strip()
            return Discovery(None, None, error=f"HTTP {status}: {message}", status=status)
        return Discovery(document.get("issuer"), document.get("jwks_uri"), document)

    # --- namespaces and service accounts ---

    def ensure_namespace(self, name: str) -> ObjectResult:
        existing = self._absent(f"reading namespace {name}", self.core.read_namespace, name)
        if existing is not None:
            if existing.status and existing.status.phase == "Terminating":
                raise ClusterError(f"namespace {name} is being deleted (Terminating)",
                                   reason="Terminating", hint="wait until it is gone, or use another namespace")
            return ObjectResult("Namespace", name, uid=existing.metadata.uid, action="existed")
        try:
            created = self.core.create_namespace(k8s.V1Namespace(metadata=_ns_meta(name)),
                                                 _request_timeout=self.timeout)
        except ApiException as exc:
            if exc.status == 409:  # created meanwhile by someone else: fine, it is present
                return self.ensure_namespace(name)
            raise cluster_error(exc, f"creating namespace {name}") from None
        except urllib3.exceptions.HTTPError as exc:
            raise cluster_error(exc, f"creating namespace {name}") from None
        return ObjectResult("Namespace", name, uid=created.metadata.uid, action="created")

    def ensure_service_account(self, namespace: str, name: str) -> ObjectResult:
        existing = self._absent(f"reading ServiceAccount {namespace}/{name}",
                                self.core.read_namespaced_service_account, name, namespace)
        if existing is not None:
            return ObjectResult("ServiceAccount", name, namespace, existing.metadata.uid, "existed")
        created = self._call(f"creating ServiceAccount {namespace}/{name}",
                             self.core.create_namespaced_service_account, namespace,
                             k8s.V1ServiceAccount(metadata=_ns_meta(name, namespace)))
        return ObjectResult("ServiceAccount", name, namespace, created.metadata.uid, "created")

    def delete_service_account(self, namespace: str, name: str) -> ObjectResult:
        deleted = self._absent(f"deleting ServiceAccount {namespace}/{name}",
                               self.core.delete_namespaced_service_account, name, namespace)
        return ObjectResult("ServiceAccount", name, namespace, action="deleted" if deleted is not None else "absent")

    def recreate_service_account(self, namespace: str, name: str) -> RecreatedServiceAccount:
        """Delete and create again: same name, new uid, so every token minted before is revoked."""
        old = self._absent(f"reading ServiceAccount {namespace}/{name}",
                           self.core.read_namespaced_service_account, name, namespace)
        self.delete_service_account(namespace, name)
        created = self._call(f"creating ServiceAccount {namespace}/{name}",
                             self.core.create_namespaced_service_account, namespace,
                             k8s.V1ServiceAccount(metadata=_ns_meta(name, namespace)))
        return RecreatedServiceAccount(namespace, name, old.metadata.uid if old else None, created.metadata.uid)

    # --- RBAC: who may review tokens ---

    @staticmethod
    def reviewer_binding_name(namespace: str, sa: str) -> str:
        return f"{namespace}-{sa}-token-reviewer"

    def bind_token_reviewer(self, namespace: str, sa: str, binding_name: str | None = None) -> ObjectResult:
        """A ClusterRoleBinding of the ServiceAccount to system:auth-delegator (may create TokenReviews)."""
        name = binding_name or self.reviewer_binding_name(namespace, sa)
        subject = k8s.RbacV1Subject(kind="ServiceAccount", name=sa, namespace=namespace)
        role_ref = k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=AUTH_DELEGATOR)
        body = k8s.V1ClusterRoleBinding(metadata=_ns_meta(name), role_ref=role_ref, subjects=[subject])
        details = (("ClusterRole", AUTH_DELEGATOR), ("subject", service_account_user(namespace, sa)))
        doing = f"binding {namespace}/{sa} to {AUTH_DELEGATOR}"
        existing = self._absent(doing, self.rbac.read_cluster_role_binding, name)
        if existing is None:
            created = self._call(doing, self.rbac.create_cluster_role_binding, body)
            return ObjectResult("ClusterRoleBinding", name, uid=created.metadata.uid, action="created", details=details)
        has_subject = any(s.kind == "ServiceAccount" and s.name == sa and s.namespace == namespace
                          for s in existing.subjects or [])
        if existing.role_ref.name == AUTH_DELEGATOR and existing.role_ref.kind == "ClusterRole" and has_subject:
            return ObjectResult("ClusterRoleBinding", name, uid=existing.metadata.uid, action="existed",
                                details=details)
        # roleRef is immutable on a real API server: a binding to another role must be replaced whole
        self._call(doing, self.rbac.delete_cluster_role_binding, name)
        created = self._call(doing, self.rbac.create_cluster_role_binding, body)
        return ObjectResult("ClusterRoleBinding", name, uid=created.metadata.uid, action="replaced", details=details)

    def unbind_token_reviewer(self, namespace: str, sa: str, binding_name: str | None = None) -> ObjectResult:
        name = binding_name or self.reviewer_binding_name(namespace, sa)
        deleted = self._absent(f"deleting ClusterRoleBinding {name}", self.rbac.delete_cluster_role_binding, name)
        return ObjectResult("ClusterRoleBinding", name, action="deleted" if deleted is not None else "absent")

    def can_i(self, verb: str, resource: str, group: str = "", namespace: str | None = None,
              user: str | None = None, groups: list[str] | None = None,
              subresource: str | None = None, name: str | None = None) -> AccessResult:
        """`kubectl auth can-i`: for `user` via SubjectAccessReview, else for this identity (self review).

        For a ServiceAccount user without explicit `groups`, the groups the API server would give that
        ServiceAccount are added, so the answer matches what its real requests would get.
        """
        attributes = k8s.V1ResourceAttributes(verb=verb, resource=resource, group=group, namespace=namespace,
                                              subresource=subresource, name=name)
        doing = f"checking whether {user or self.identity} can {verb} {resource}"
        if user is None:
            review = self._call(doing, self.authz.create_self_subject_access_review,
                                k8s.V1SelfSubjectAccessReview(spec=k8s.V1SelfSubjectAccessReviewSpec(
                                    resource_attributes=attributes)))
            who = self.identity
        else:
            if groups is None and user.startswith("system:serviceaccount:") and user.count(":") == 3:
                groups = ["system:serviceaccounts", f"system:serviceaccounts:{user.split(':')[2]}",
                          "system:authenticated"]
            review = self._call(doing, self.authz.create_subject_access_review,
                                k8s.V1SubjectAccessReview(spec=k8s.V1SubjectAccessReviewSpec(
                                    user=user, groups=groups, resource_attributes=attributes)))
            who = user
        status = review.status
        return AccessResult(allowed=bool(status.allowed), user=who, verb=verb, resource=resource, group=group,
                            namespace=namespace, subresource=subresource, reason=status.reason or "",
                            error=status.evaluation_error or "")

    def grant(self, namespace: str, sa: str, *, verbs: list[str], resources: list[str], name: str,
              group: str = "", resource_names: list[str] | None = None,
              subject_namespace: str | None = None) -> ObjectResult:
        """A Role in `namespace` and a RoleBinding giving it to a ServiceAccount (replaced if present).

        `resources` may name subresources ("serviceaccounts/token"); `subject_namespace` is the
        ServiceAccount's own namespace when it differs (a controller's ServiceAccount, for instance).
        """
        rule = k8s.V1PolicyRule(api_groups=[group], resources=list(resources), verbs=list(verbs),
                                resource_names=list(resource_names) if resource_names else None)
        role = k8s.V1Role(metadata=_ns_meta(name, namespace), rules=[rule])
        subject = k8s.RbacV1Subject(kind="ServiceAccount", name=sa, namespace=subject_namespace or namespace)
        binding = k8s.V1RoleBinding(metadata=_ns_meta(name, namespace), subjects=[subject],
                                    role_ref=k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role",
                                                           name=name))
        doing = f"granting {', '.join(verbs)} on {', '.join(resources)} in {namespace} to {sa}"
        for delete in (self.rbac.delete_namespaced_role_binding, self.rbac.delete_namespaced_role):
            self._absent(doing, delete, name, namespace)
        self._call(doing, self.rbac.create_namespaced_role, namespace, role)
        created = self._call(doing, self.rbac.create_namespaced_role_binding, namespace, binding)
        details = (("verbs", ", ".join(verbs)), ("resources", ", ".join(resources)),
                   ("subject", service_account_user(subject_namespace or namespace, sa)))
        return ObjectResult("RoleBinding", name, namespace, created.metadata.uid, "created", details=details)

    # --- tokens ---

    def request_token(self, namespace: str, sa: str, audiences: list[str] | None = None,
                      expiration_seconds: int = 600) -> TokenResult:
        """TokenRequest (`kubectl create token`): a short-lived JWT for the ServiceAccount.

        Failures come back as a TokenResult with ok=False and the API server's message (ESO quotes it).
        """
        requested = tuple(audiences or ())
        spec = k8s.V1TokenRequestSpec(audiences=list(requested), expiration_seconds=int(expiration_seconds))
        try:
            answer = self.core.create_namespaced_service_account_token(
                sa, namespace, k8s.AuthenticationV1TokenRequest(spec=spec), _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            error = cluster_error(exc)
            return TokenResult(namespace, sa, requested, int(expiration_seconds),
                               error=error.message, status=error.status,
                               reason=error.reason, hint=error.hint)
        return TokenResult(namespace, sa, requested, int(expiration_seconds), token=answer.status.token,
                           expiration=answer.status.expiration_timestamp)

    def review_token(self, token: str, audiences: list[str] | None = None,
                     as_token: str | None = None) -> ReviewResult:
        """TokenReview, as this identity or as the holder of `as_token` (the gateway's reviewer JWT).

        A refusal (401/403) is returned as a ReviewResult with the API server's exact message, not raised.
        """
        reviewer = self.as_identity(as_token) if as_token else self
        spec = k8s.V1TokenReviewSpec(token=token, audiences=list(audiences) if audiences is not None else None)
        requested = tuple(audiences) if audiences is not None else None
        try:
            answer = reviewer.authn.create_token_review(k8s.V1TokenReview(spec=spec), _request_timeout=self.timeout)
        except (ApiException, urllib3.exceptions.HTTPError) as exc:
            error = cluster_error(exc)
            return ReviewResult(False, reviewer.identity, requested_audiences=requested, error=error.message,
                                status=error.status or 0, reason=error.reason, hint=error.hint)
        status = answer.status
        user = status.user
        return ReviewResult(bool(status.authenticated), reviewer.identity,
                            username=user.username if user else None, uid=user.uid if user else None,
                            groups=tuple(user.groups or ()) if user else (), audiences=tuple(status.audiences or ()),
                            requested_audiences=requested, error=status.error or None)

    # --- secrets ---

    def write_secret(self, namespace: str, name: str, data: dict[str, str], labels: dict | None = None,
                     annotations: dict | None = None, type: str = "Opaque",
                     owner_references: list[dict] | None = None) -> SecretResult:
        """Create or replace a Secret the way ESO writes its target: base64 `data`, labels, annotations,
        and the ownerReference to its ExternalSecret when given."""
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in data.items()}
        meta = _ns_meta(name, namespace, labels, annotations)
        if owner_references:
            meta.owner_references = [k8s.V1OwnerReference(
                api_version=o["apiVersion"], kind=o["kind"], name=o["name"], uid=o["uid"],
                controller=o.get("controller"), block_owner_deletion=o.get("blockOwnerDeletion"))
                for o in owner_references]
        body = k8s.V1Secret(metadata=meta, data=encoded, type=type)
        doing = f"writing Secret {namespace}/{name}"
        try:
            self.core.create_namespaced_secret(namespace, body, _request_timeout=self.timeout)
            action = "created"
        except ApiException as exc:
            if exc.status != 409:
                raise cluster_error(exc, doing) from None
            current = self._call(doing, self.core.read_namespaced_secret, name, namespace)
            body.metadata.resource_version = current.metadata.resource_version
            self._call(doing, self.core.replace_namespaced_secret, name, namespace, body)
            action = "replaced"
        except urllib3.exceptions.HTTPError as exc:
            raise cluster_error(exc, doing) from None
        return SecretResult(namespace, name, type, {k: str(v) for k, v in data.items()}, dict(labels or {}),
                            dict(annotations or {}), action=action)

    def read_secret(self, namespace: str, name: str, reveal: bool = False) -> SecretResult:
        secret = self._call(f"reading Secret {namespace}/{name}", self.core.read_namespaced_secret, name, namespace)
        data = {k: _decode_value(v) for k, v in (secret.data or {}).items()}
        owners = tuple((o.api_version, o.kind, o.name, o.uid, bool(o.controller))
                       for o in secret.metadata.owner_references or ())
        return SecretResult(namespace, name, secret.type or "Opaque", data, dict(secret.metadata.labels or {}),
                            dict(secret.metadata.annotations or {}), reveal=reveal, owner_references=owners)

    def delete_secret(self, namespace: str, name: str) -> ObjectResult:
        deleted = self._absent(f"deleting Secret {namespace}/{name}", self.core.delete_namespaced_secret, name,
                               namespace)
        return ObjectResult("Secret", name, namespace, action="deleted" if deleted is not None else "absent")

    def _secrets(self, namespace: str | None) -> list:
        if namespace:
            listing = self._call(f"listing Secrets in {namespace}", self.core.list_namespaced_secret, namespace)
        else:
            listing = self._call("listing Secrets in all namespaces", self.core.list_secret_for_all_namespaces)
        return sorted(listing.items, key=lambda s: (s.metadata.namespace, s.metadata.name))

    def list_secrets(self, namespace: str | None = None) -> SecretList:
        items = tuple((s.metadata.namespace, s.metadata.name, s.type or "Opaque", tuple(sorted(s.data or {})))
                      for s in self._secrets(namespace))
        return SecretList(namespace, items)

    def find_static_credentials(self, namespace: str | None = None) -> StaticCredentialScan:
        """Secrets that hold long-lived credentials: API keys/access keys, or legacy ServiceAccount tokens."""
        secrets = self._secrets(namespace)
        findings = []
        for secret in secrets:
            keys = tuple(sorted(k for k in (secret.data or {}) if _norm_key(k) in STATIC_CREDENTIAL_KEYS))
            if secret.type == "kubernetes.io/service-account-token":
                findings.append((secret.metadata.namespace, secret.metadata.name, tuple(sorted(secret.data or {})),
                                 "long-lived ServiceAccount token (never expires)"))
            elif keys:
                findings.append((secret.metadata.namespace, secret.metadata.name, keys,
                                 "static access key / API token"))
        return StaticCredentialScan(namespace, len(secrets), tuple(findings))

    def __repr__(self) -> str:
        return f"Cluster({self.server} as {self.identity})"
