"""The wire layer: URL parsing into request attributes, authn/authz in the API server's order, and JSON
in and out. Every error leaves as a metav1.Status; no rule lives here."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from aiohttp import web

from .. import errorlog
from . import (apply, bootstrap, decoding, discovery, managedfields, openapi, options, patch, services, status,
               watch)
from .fieldvalidation import FieldCheck
from .authn import Authenticator, impersonate
from .authz import Attributes, Authorizer, User
from .controllers import Controllers
from .registry import Registry
from .resources import GROUPS, NAMESPACES, SERVICES, Resource, lookup
from .reviews import Reviews
from .store import Store
from .watchstream import WatchStream
from .wire import json_response as _json
from .tables import wants_table, table
from .tokens import TokenAuthority

log = logging.getLogger("helpers.lab.kube")

_NON_RESOURCE_VERBS = {"GET": "get", "HEAD": "get", "POST": "post", "PUT": "put", "PATCH": "patch",
                       "DELETE": "delete", "OPTIONS": "options"}
_HEALTH = ("/healthz", "/livez", "/readyz")
_NS_SUBRESOURCES = ("status", "finalize")


@dataclass
class Target:
    """A parsed resource URL (request.RequestInfo)."""

    group: str
    version: str
    plural: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    namespaced_url: bool = False


def parse_resource_path(path: str) -> Target | None:
    """None for non-resource paths (discovery, health, ...)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace, namespaced_url = "", False
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NS_SUBRESOURCES:
            rest = rest[2:]
            namespaced_url = True
    target = Target(group, version, rest[0], namespace, namespaced_url=namespaced_url)
    if len(rest) > 1:
        target.name = rest[1]
    if len(rest) > 2:
        target.subresource = "/".join(rest[2:])
    return target


def _error(exc: status.ApiError) -> web.Response:
    return _json(exc.status(), exc.code)


JWKS_TYPE = "application/jwk-set+json"


def _negotiate(request: web.Request, produces: str) -> None:
    """The Accept check of the API server's go-restful routes: a media range matches only as */* or
    exactly (case-sensitive, no type/* wildcards, quality ignored); no Accept header means */*."""
    accept = request.headers.get("Accept", "") or "*/*"
    for item in accept.split(","):
        media = item.split(";", 1)[0].strip()
        if media in ("*/*", produces):
            return
    raise status.not_acceptable(produces)


class KubeAPI:
    def __init__(self, ctx):
        self.ctx = ctx
        self.store = Store(ctx.state_dir / "kube.journal", ctx.clock.now)
        bootstrap.ensure(self.store)
        self.controllers = Controllers(self.store, ctx.pki.ca_pem())
        self.controllers.reconcile()
        self.registry = Registry(self.store, ctx.clock.now, self.controllers)
        self.watches = watch.WatchHub(int(self.store.resource_version))
        self.store.on_change = self.watches.record
        self._service_port = None
        self.tokens = TokenAuthority(ctx.pki, ctx.issuer)
        self.authorizer = Authorizer(self.store)
        self.reviews = Reviews(self.store, self.tokens, self.authorizer, ctx.clock.now)
        self.authn = Authenticator(ctx.pki.admin_token, self.tokens, ctx.clock.now, self.reviews.lookup)
        self.reviews.authenticate_token = self.authn.token      # one token cache for requests and reviews

    # --- entry point -------------------------------------------------------------------------------

    def _reconcile_kubernetes_service(self) -> None:
        """The bootstrap controller's job once the listener is bound: `kubernetes` in `default` points at it."""
        port = int(self.ctx.kube_url.rsplit(":", 1)[1]) if self.ctx.kube_url else None
        if port is None or port == self._service_port:
            return
        wanted = services.kubernetes_service(port)
        current = self.store.peek(SERVICES, "default", "kubernetes")
        if current is None:
            managedfields.record_update(SERVICES, None, wanted, bootstrap.MANAGER, self.store.now(),
                                        services.ALLOCATED)
            self.store.create(SERVICES, "default", wanted)
        elif current["spec"] != wanted["spec"]:
            changed = dict(current, spec=wanted["spec"])
            managedfields.record_update(SERVICES, current, changed, bootstrap.MANAGER, self.store.now())
            self.store.update(SERVICES, "default", "kubernetes", changed)
        self._service_port = port

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self._reconcile_kubernetes_service()
        try:
            return await self._handle(request)
        except status.ApiError as exc:
            return _error(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer as a Status, never a traceback page
            # the exception's text stays in the log: it may quote a secret value from the request
            errorlog.report(exc, f"{request.method} {request.path}")
            return _error(status.ApiError(500, "InternalError", "Internal error occurred: the lab's Kubernetes "
                                          "emulator hit a bug (traceback in lab.log)", {}))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peercert = request.transport.get_extra_info("peercert") if request.transport else None
        user = self.authn.authenticate(request.headers.get("Authorization", ""), peercert)
        user = request["user"] = impersonate(user, request.headers, self.authorizer.authorize)
        path = request.path
        target = parse_resource_path(path)
        if target is None:
            return self._non_resource(request, user, path)
        return await self._resource(request, user, target)

    def _authorize(self, attrs: Attributes, resource: Resource | None) -> None:
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            why = attrs.forbidden_message() + (f": {reason}" if reason else "")
            if resource is None and attrs.is_resource:
                resource = Resource(attrs.group, "", attrs.resource, "", False)
            raise status.forbidden(resource if attrs.is_resource else None, attrs.name, why)

    # --- non-resource URLs -------------------------------------------------------------------------

    def _non_resource(self, request: web.Request, user: User, path: str) -> web.StreamResponse:
        verb = _NON_RESOURCE_VERBS.get(request.method, request.method.lower())
        self._authorize(Attributes(user, verb, path=path), None)
        if request.method not in ("GET", "HEAD"):
            raise status.method_not_allowed()
        if path in _HEALTH or any(path.startswith(p + "/") for p in _HEALTH):
            return web.Response(text="ok", content_type="text/plain")
        if path in ("/version", "/version/"):
            return _json(discovery.version())
        if path in ("/.well-known/openid-configuration", "/.well-known/openid-configuration/"):
            _negotiate(request, "application/json")
            base = self.ctx.kube_url or f"https://{request.host}"
            return _json(discovery.openid_configuration(self.ctx.issuer, f"{base}/openid/v1/jwks"))
        if path in ("/openid/v1/jwks", "/openid/v1/jwks/"):
            # served only as jwk-set+json, without a charset parameter: a strict Accept gets a 406
            _negotiate(request, JWKS_TYPE)
            return web.Response(body=json.dumps(self.tokens.jwks()).encode(), content_type=JWKS_TYPE)
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["openapi"]:
            return self._openapi(request, parts[1:])
        document = None
        if parts == ["api"]:
            document = discovery.core_versions(request.host)
        elif parts == ["api", "v1"]:
            document = discovery.resource_list("", "v1")
        elif parts == ["apis"]:
            document = discovery.group_list()
        elif len(parts) == 2 and parts[0] == "apis":
            document = discovery.group(parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            document = discovery.resource_list(parts[1], parts[2])
        if document is None:
            # /openapi/v2, /openapi/v3 and anything unknown: kubectl falls back to discovery on a 404. Paths
            # outside the API's own prefixes reach the server's plain mux, whose 404 is text, not a Status.
            if parts and (parts[0] in ("api", "version") or (parts[0] == "apis" and len(parts) > 1
                                                             and parts[1] in GROUPS)):
                raise status.page_not_found()
            return web.Response(text="404 page not found\n", status=404)
        return _json(document)

    @staticmethod
    def _openapi(request: web.Request, parts: list[str]) -> web.Response:
        if parts == ["v2"]:
            if openapi.V2_PROTOBUF in request.headers.get("Accept", ""):
                return web.Response(body=openapi.v2_protobuf(), content_type=openapi.V2_PROTOBUF_REPLY)
            _negotiate(request, "application/json")
            body = openapi.v2()
        elif parts == ["v3"]:
            body = openapi.v3_index()
        elif parts[:1] == ["v3"] and "/".join(parts[1:]) in openapi.v3_documents():
            body = openapi.v3_documents()["/".join(parts[1:])]
        else:
            return web.Response(text="404 page not found\n", status=404)
        return web.Response(body=body, content_type="application/json")

    # --- resource URLs -----------------------------------------------------------------------------

    async def _resource(self, request: web.Request, user: User, target: Target) -> web.StreamResponse:
        method = request.method
        resource = lookup(target.group, target.version, target.plural)
        verb = {"GET": "get" if target.name else "list", "HEAD": "get" if target.name else "list",
                "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if target.name else "deletecollection"}.get(method, "")
        if verb == "list" and request.query.get("watch") in ("1", "true"):
            verb = "watch"
        namespace = target.namespace
        if resource is NAMESPACES and target.name and not target.namespaced_url:
            namespace = target.name     # RequestInfo puts a namespace's own name in its namespace field
        attrs = Attributes(user, verb or method.lower(), namespace=namespace, group=target.group,
                           resource=target.plural, subresource=target.subresource, name=target.name)
        self._authorize(attrs, resource)
        if resource is None:
            raise status.page_not_found()
        if resource.namespaced != target.namespaced_url and not (resource.namespaced and verb in ("list", "watch")
                                                                  and not target.namespace):
            if resource.namespaced and not target.name and method == "POST":
                raise status.method_not_allowed()
            raise status.page_not_found()
        if not verb or (not target.name and verb in ("update", "patch")) or \
                (target.name and not target.subresource and verb == "create"):
            raise status.method_not_allowed()
        if target.subresource:
            return await self._subresource(request, user, resource, target)
        if not resource.stored:
            if verb != "create" or target.name:
                raise status.method_not_allowed()
            check = FieldCheck(request.query, "create")
            body = check.body(resource, await _body(request, resource.kind))
            return _warned(_json(self._review(resource, user, body, target.namespace), 201), check)
        if verb == "watch":
            return await self._watch(request, resource, target.namespace or None)
        ns = target.namespace if resource.namespaced else ""
        delete_options = await _delete_options(request) if verb in ("delete", "deletecollection") else None
        dry = verb in ("create", "update", "patch", "delete", "deletecollection") and \
            options.dry_run(request.query, verb, delete_options)
        labels, fields = request.query.get("labelSelector", ""), request.query.get("fieldSelector", "")
        if verb == "list":
            return self._list(request, resource, self.registry.list(resource, target.namespace or None, labels, fields))
        if verb == "get":
            obj = self.registry.get(resource, ns, target.name)
            if wants_table(request.headers.get("Accept", "")):
                return _json(table(resource, [obj], self.store.resource_version, self.ctx.clock.now(),
                                   self.registry.printable(resource)))
            return _json(obj)
        user_agent = request.headers.get("User-Agent", "")
        if verb == "create":
            check = FieldCheck(request.query, verb)
            manager = options.field_manager(request.query, verb, user_agent)
            body = check.body(resource, await _body(request, resource.kind))
            return _warned(_json(self.registry.create(resource, ns, body, dry, self._escalation(user, resource, ns),
                                                      manager), 201), check)
        content_type = request.headers.get("Content-Type", "")
        if verb == "patch" and patch.media_type(content_type) == patch.APPLY:
            FieldCheck(request.query, verb)
            manager = options.field_manager(request.query, verb, user_agent, applying=True)
            config = apply.decode(await decoding.read(request))
            obj, created = self.registry.apply(resource, ns, target.name, config, manager,
                                               options.force(request.query), dry, self._escalation(user, resource, ns))
            return _json(obj, 201 if created else 200)
        if verb in ("update", "patch"):
            check = FieldCheck(request.query, verb)
            manager = options.field_manager(request.query, verb, user_agent)
            body = await _body(request, resource.kind)
            if verb == "patch":
                def change(current):
                    patched = check.patched(resource, patch.apply(content_type, current, body), content_type, body)
                    return _unpinned(patched, current)
            else:
                def change(_current):
                    return check.body(resource, body)
            return _warned(_json(self.registry.update(resource, ns, target.name, change, dry,
                                                      self._escalation(user, resource, ns), manager)), check)
        if verb == "delete":
            return self._deleted(resource, self.registry.delete(resource, ns, target.name, dry))
        if verb == "deletecollection" and resource is not NAMESPACES:
            deleted = self.registry.delete_collection(resource, target.namespace or None, labels, fields, dry)
            return self._list(request, resource, deleted)
        raise status.method_not_allowed()

    def _escalation(self, user: User, resource: Resource, ns: str):
        """RBAC escalation prevention on the object about to be written (roles and bindings only)."""
        return lambda obj, old: self.authorizer.check_escalation(user, resource, ns, obj, old)

    def _list(self, request: web.Request, resource: Resource, items: list[dict]) -> web.Response:
        rv = self.store.resource_version
        if wants_table(request.headers.get("Accept", "")):
            return _json(table(resource, items, rv, self.ctx.clock.now(), self.registry.printable(resource)))
        for item in items:
            item.pop("kind", None)
            item.pop("apiVersion", None)
        return _json({"kind": f"{resource.kind}List", "apiVersion": resource.api_version,
                      "metadata": {"resourceVersion": rv}, "items": items})

    async def _watch(self, request: web.Request, resource: Resource, namespace: str | None) -> web.StreamResponse:
        opts = watch.parse(request.query)
        labels, fields = request.query.get("labelSelector", ""), request.query.get("fieldSelector", "")
        stream = WatchStream(self, request, resource, namespace, labels, fields)
        try:
            backlog = None if opts.resource_version in ("", "0") or opts.initial_events else \
                self.watches.since(int(opts.resource_version))
        except watch.Expired as expired:
            await stream.start()
            await stream.write("ERROR", expired.status, raw=True)
            return stream.response
        queue = self.watches.subscribe()        # no await since the backlog was read: nothing is missed
        try:
            await stream.start()
            if backlog is None:
                for obj in self.registry.list(resource, namespace, labels, fields):
                    await stream.write("ADDED", obj)
                if opts.initial_events and opts.bookmarks:
                    await stream.bookmark(int(self.store.resource_version), initial_end=True)
            else:
                for change in backlog:
                    await stream.change(change)
            await stream.follow(queue, opts)
        except (ConnectionResetError, asyncio.CancelledError):
            pass                                # the client went away
        finally:
            self.watches.unsubscribe(queue)
        return stream.response

    @staticmethod
    def _deleted(resource: Resource, obj: dict) -> web.Response:
        if resource is NAMESPACES or resource.delete_returns_object:
            return _json(obj)
        name = obj["metadata"]["name"]
        details = {"name": name, "kind": resource.plural, "uid": obj["metadata"]["uid"]}
        if resource.group:
            details["group"] = resource.group
        return _json({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": details})

    async def _subresource(self, request: web.Request, user: User, resource: Resource, target: Target):
        if target.subresource not in resource.subresources or not target.name:
            raise status.page_not_found()
        if request.method != "POST":
            raise status.method_not_allowed()
        body = await _body(request, resource.subresources[target.subresource][0])
        if not isinstance(body, dict):
            raise status.bad_request("the request body must be a TokenRequest object")
        return _json(self.reviews.token_request(target.namespace, target.name, body), 201)

    def _review(self, resource: Resource, user: User, body, namespace: str) -> dict:
        if not isinstance(body, dict):
            raise status.bad_request(f"the request body must be a {resource.kind} object")
        kind = body.get("kind")
        if kind not in (None, "", resource.kind):
            raise status.bad_request(f"the object's kind {kind!r} does not match {resource.qualified} "
                                     f"(expected kind {resource.kind!r})")
        if resource.plural == "tokenreviews":
            return self.reviews.token_review(body)
        if resource.plural == "selfsubjectreviews":
            return self.reviews.self_subject_review(user, body)
        if resource.plural == "selfsubjectrulesreviews":
            return self.reviews.rules_review(user, body)
        return self.reviews.access_review(resource.kind, user, body, namespace)


async def _body(request: web.Request, kind: str):
    return await decoding.body(request, kind)


def _warned(response: web.Response, check: FieldCheck) -> web.Response:
    for value in check.warning_values():
        response.headers.add("Warning", value)
    return response


def _unpinned(patched, current: dict):
    """A patch that leaves the resourceVersion as it was does not ask for an optimistic-concurrency check."""
    if isinstance(patched, dict) and isinstance(patched.get("metadata"), dict) and \
            patched["metadata"].get("resourceVersion") == current["metadata"].get("resourceVersion"):
        patched["metadata"].pop("resourceVersion")
    return patched


async def _delete_options(request: web.Request) -> dict | None:
    """The optional DeleteOptions body of a DELETE (kubectl sends propagationPolicy and dryRun there)."""
    raw = await decoding.read(request)
    if not raw.strip():
        return None
    body = decoding.decode(raw, request.headers.get("Content-Type", "application/json"), "DeleteOptions")
    if not isinstance(body, dict):
        raise status.bad_request("the request body must be a DeleteOptions object")
    return body


def create_app(ctx) -> web.Application:
    api = KubeAPI(ctx)
    app = web.Application(client_max_size=decoding.MAX_BODY)
    app.router.add_route("*", "/{tail:.*}", api.handle)
    app["kube_api"] = api

    async def close(_app) -> None:
        api.store.close()

    app.on_cleanup.append(close)
    return app
