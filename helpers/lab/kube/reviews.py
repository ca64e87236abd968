"""The create-only APIs: TokenRequest (serviceaccounts/token), TokenReview, SelfSubjectReview and the
access reviews. Pure semantics over the store, the token authority and the authorizer; no HTTP here."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from . import status
from .authz import Attributes, Authorizer, User
from .resources import AUTHN, AUTHZ, NAMESPACES, PODS, SECRETS, SERVICEACCOUNTS, Resource
from .status import FieldError
from .store import Store, go_order, rfc3339
from .tokens import TokenAuthority, Verdict

MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32
DEFAULT_EXPIRATION = 3600
# a kind a token can be bound to upstream that the lab does not serve: named only in NotFound errors
NODES = Resource("", "v1", "nodes", "Node", False)

log = logging.getLogger("helpers.lab.kube")


@dataclass
class Reviews:
    store: Store
    tokens: TokenAuthority
    authorizer: Authorizer
    now: Callable[[], float]
    authenticate_token: Callable[[str, list], Verdict] | None = None    # authn.Authenticator.token

    def lookup(self, kind: str, namespace: str, name: str) -> dict | None:
        resource = {"ServiceAccount": SERVICEACCOUNTS, "Pod": PODS}.get(kind, SECRETS)
        return self.store.peek(resource, namespace, name)

    # --- TokenRequest ------------------------------------------------------------------------------

    def token_request(self, namespace: str, name: str, body: dict) -> dict:
        # the upstream order: decoding, namespace lifecycle (admission), body name/namespace, the
        # ServiceAccount, then validation, then the bound object
        spec = _object(body.get("spec"), "spec")
        meta = dict(_object(body.get("metadata"), "metadata"))
        audiences = spec.get("audiences") or []
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise status.bad_request("spec.audiences must be a list of strings")
        expiration = spec.get("expirationSeconds")
        if expiration is None:
            expiration = DEFAULT_EXPIRATION
        if isinstance(expiration, bool) or not isinstance(expiration, int):
            raise status.bad_request(f"spec.expirationSeconds must be an integer number of seconds, not "
                                     f"{expiration!r}")
        if not self.store.namespace_exists(namespace):
            raise status.not_found(NAMESPACES, namespace)
        for field, url_value, what in (("name", name, "name"), ("namespace", namespace, "namespace")):
            if meta.get(field) and meta[field] != url_value:
                raise status.invalid("TokenRequest", AUTHN, name, [FieldError(
                    f"metadata.{field}", "FieldValueInvalid", meta[field],
                    f"must match the service account {what} if specified")])
        sa = self.store.peek(SERVICEACCOUNTS, namespace, name)
        if sa is None:
            raise status.not_found(SERVICEACCOUNTS, name)
        errors = []
        if expiration < MIN_EXPIRATION:
            errors.append(FieldError("spec.expirationSeconds", "FieldValueInvalid", expiration,
                                     "may not specify a duration less than 10 minutes"))
        if expiration > MAX_EXPIRATION:
            errors.append(FieldError("spec.expirationSeconds", "FieldValueInvalid", expiration,
                                     "may not specify a duration larger than 2^32 seconds"))
        if errors:
            raise status.invalid("TokenRequest", AUTHN, str(meta.get("name") or ""), errors)
        bound = self._bound_object(namespace, name, spec.get("boundObjectRef"))
        audiences = audiences or list(self.tokens.api_audiences)
        now = self.now()
        token, expires = self.tokens.mint(sa, audiences, expiration, now, bound)
        # the response carries the ServiceAccount's name, namespace and uid, and whatever else the request's
        # metadata held (labels, annotations)
        meta.update(name=name, namespace=namespace, uid=sa["metadata"]["uid"], creationTimestamp=rfc3339(now))
        return {
            "kind": "TokenRequest", "apiVersion": f"{AUTHN}/v1", "metadata": go_order(meta),
            "spec": {"audiences": audiences, "expirationSeconds": expiration,
                     "boundObjectRef": spec.get("boundObjectRef")},
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)},
        }

    def _bound_object(self, namespace: str, sa_name: str, ref) -> dict | None:
        if ref is None:
            return None
        ref = _object(ref, "spec.boundObjectRef")
        for key, value in ref.items():
            if value is not None and not isinstance(value, str):
                raise _cannot_handle("TokenRequest", f"spec.boundObjectRef.{key}", "string")
        kind, name = ref.get("kind") or "", ref.get("name") or ""
        api_version = str(ref.get("apiVersion") or "")
        group, _, version = api_version.rpartition("/")
        if group == "" and kind == "Node":
            # the lab runs no nodes, so every one a token could be bound to is missing
            log.info("TokenRequest bound to Node %r: the lab has no nodes; bind to a Pod or a Secret instead", name)
            raise status.not_found(NODES, name)
        if group != "" or kind not in ("Secret", "Pod"):
            raise status.bad_request(f"cannot bind token to object of type {group}/{version}, Kind={kind}")
        bound = self.store.peek(PODS if kind == "Pod" else SECRETS, namespace, name)
        if bound is None:
            raise status.not_found(PODS if kind == "Pod" else SECRETS, name)
        if kind == "Pod" and bound["spec"].get("serviceAccountName") != sa_name:
            raise status.bad_request(f'cannot bind token for serviceaccount "{sa_name}" to pod running with different '
                                     "serviceaccount name.")
        if ref.get("uid") and ref["uid"] != bound["metadata"]["uid"]:
            # upstream names the kind (not the resource) in this Conflict
            raise status.ApiError(409, "Conflict", f'Operation cannot be fulfilled on {kind} "{name}": the UID in '
                                  f"the bound object reference ({ref['uid']}) does not match the UID in record. The "
                                  f"object might have been deleted and then recreated", {"name": name, "kind": kind})
        return {"kind": kind, "name": name, "uid": bound["metadata"]["uid"]}

    # --- TokenReview ------------------------------------------------------------------------------

    def token_review(self, body: dict) -> dict:
        spec = _object(body.get("spec"), "spec")
        token = spec.get("token")
        if not token or not isinstance(token, str):
            raise status.bad_request("token is required for TokenReview in authentication")
        audiences = spec.get("audiences") or []
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise status.bad_request("spec.audiences must be a list of strings")
        verdict = self.authenticate_token(token, audiences)
        result = {}
        if verdict.authenticated:
            result["authenticated"] = True
            user = {"username": verdict.username, "uid": verdict.uid, "groups": verdict.groups}
            if verdict.extra:
                user["extra"] = verdict.extra
            result["user"] = user
            result["audiences"] = verdict.audiences
        else:
            result["user"] = {}
            result["error"] = verdict.error
        return {"kind": "TokenReview", "apiVersion": f"{AUTHN}/v1", "metadata": _review_meta(body),
                "spec": spec, "status": result}

    # --- who am I / may I -------------------------------------------------------------------------

    def self_subject_review(self, user: User, body: dict) -> dict:
        # upstream answers with a fresh object: the request's metadata is dropped, the time is stamped
        return {"kind": "SelfSubjectReview", "apiVersion": f"{AUTHN}/v1",
                "metadata": {"creationTimestamp": rfc3339(self.now())}, "status": {"userInfo": user.info()}}

    def access_review(self, kind: str, caller: User, body: dict, namespace: str = "") -> dict:
        spec = _object(body.get("spec"), "spec")
        resource_attrs = spec.get("resourceAttributes")
        url_attrs = spec.get("nonResourceAttributes")
        if (resource_attrs is None) == (url_attrs is None):
            raise status.invalid(kind, AUTHZ, "", [FieldError(
                "spec.resourceAttributes", "FieldValueInvalid", resource_attrs,
                "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        if kind in ("SubjectAccessReview", "LocalSubjectAccessReview"):
            user_name = spec.get("user") or ""
            groups = spec.get("groups") or []
            extra = spec.get("extra") or {}
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise _cannot_handle(kind, "spec.groups", "[]string")
            if not isinstance(extra, dict) or not all(isinstance(v, list) and all(isinstance(i, str) for i in v)
                                                      for v in extra.values()):
                raise _cannot_handle(kind, "spec.extra", "map[string][]string")
            if not user_name and not groups:
                raise status.invalid(kind, AUTHZ, "", [FieldError(
                    "spec.user", "FieldValueInvalid", "", "at least one of user or group must be specified")])
            subject = User(str(user_name), str(spec.get("uid") or ""), tuple(groups), extra)
        else:
            subject = caller
        if resource_attrs is not None:
            attrs_in = _object(resource_attrs, "spec.resourceAttributes")
            ns = str(attrs_in.get("namespace") or "")
            if kind == "LocalSubjectAccessReview" and ns != namespace:
                # upstream validates the decoded object, whose kind is not set yet: hence the bare group
                raise status.invalid("", AUTHZ, "", [FieldError(
                    "spec.resourceAttributes.namespace", "FieldValueInvalid", ns, "must match metadata.namespace")])
            attrs = Attributes(subject, str(attrs_in.get("verb") or ""), namespace=ns,
                               group=str(attrs_in.get("group") or ""), resource=str(attrs_in.get("resource") or ""),
                               subresource=str(attrs_in.get("subresource") or ""), name=str(attrs_in.get("name") or ""))
        else:
            attrs_in = _object(url_attrs, "spec.nonResourceAttributes")
            attrs = Attributes(subject, str(attrs_in.get("verb") or ""), path=str(attrs_in.get("path") or ""))
        allowed, reason = self.authorizer.authorize(attrs)
        result = {"allowed": allowed}
        if reason:
            result["reason"] = reason
        meta = _review_meta(body)
        if namespace:
            meta = go_order(dict(meta, namespace=namespace))
        return {"kind": kind, "apiVersion": f"{AUTHZ}/v1", "metadata": meta, "spec": spec, "status": result}

    def rules_review(self, caller: User, body: dict) -> dict:
        spec = _object(body.get("spec"), "spec")
        namespace = spec.get("namespace") or ""
        resource_rules, url_rules, incomplete = self.authorizer.rules_for(caller, str(namespace))
        # upstream answers with a new object that keeps neither the request's spec nor its metadata
        return {"kind": "SelfSubjectRulesReview", "apiVersion": f"{AUTHZ}/v1", "metadata": {},
                "spec": {}, "status": {"resourceRules": resource_rules, "nonResourceRules": url_rules,
                                         "incomplete": incomplete}}


def _cannot_handle(kind: str, field: str, go_type: str) -> status.ApiError:
    """The API server's answer to a field of the wrong JSON type: the body cannot be decoded."""
    return status.bad_request(f'{kind} in version "v1" cannot be handled as a {kind}: json: cannot unmarshal '
                              f"value into Go struct field {field} of type {go_type}")


def _object(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise status.bad_request(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _review_meta(body: dict) -> dict:
    """A review echoes the request's metadata; an unset creationTimestamp is omitted, not null."""
    return go_order(dict(_object(body.get("metadata"), "metadata")))
