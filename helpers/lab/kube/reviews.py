"""The create-only APIs: TokenRequest (serviceaccounts/token), TokenReview, SelfSubjectReview and the
access reviews. Pure semantics over the store, the token authority and the authorizer; no HTTP here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import status
from .authz import Attributes, Authorizer, User
from .resources import AUTHN, AUTHZ, SECRETS, SERVICEACCOUNTS
from .status import FieldError
from .store import Store, rfc3339
from .tokens import TokenAuthority, Verdict

MIN_EXPIRATION = 600
MAX_EXPIRATION = 1 << 32
DEFAULT_EXPIRATION = 3600


@dataclass
class Reviews:
    store: Store
    tokens: TokenAuthority
    authorizer: Authorizer
    now: Callable[[], float]
    admin: User
    admin_token: str

    def lookup(self, kind: str, namespace: str, name: str) -> dict | None:
        resource = SERVICEACCOUNTS if kind == "ServiceAccount" else SECRETS
        return self.store.peek(resource, namespace, name)

    # --- TokenRequest ------------------------------------------------------------------------------

    def token_request(self, namespace: str, name: str, body: dict) -> dict:
        spec = _object(body.get("spec"), "spec")
        meta = _object(body.get("metadata"), "metadata")
        audiences = spec.get("audiences") or []
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise status.bad_request("spec.audiences must be a list of strings")
        expiration = spec.get("expirationSeconds")
        if expiration is None:
            expiration = DEFAULT_EXPIRATION
        if isinstance(expiration, bool) or not isinstance(expiration, int):
            raise status.bad_request(f"spec.expirationSeconds must be an integer number of seconds, not "
                                     f"{expiration!r}")
        errors = []
        if expiration < MIN_EXPIRATION:
            errors.append(FieldError("spec.expirationSeconds", "FieldValueInvalid", expiration,
                                     "may not specify a duration less than 10 minutes"))
        if expiration > MAX_EXPIRATION:
            errors.append(FieldError("spec.expirationSeconds", "FieldValueInvalid", expiration,
                                     "may not specify a duration larger than 2^32 seconds"))
        if errors:
            raise status.invalid("TokenRequest", AUTHN, str(meta.get("name") or ""), errors)
        for field, url_value, what in (("name", name, "name"), ("namespace", namespace, "namespace")):
            if meta.get(field) and meta[field] != url_value:
                raise status.invalid("TokenRequest", AUTHN, name, [FieldError(
                    f"metadata.{field}", "FieldValueInvalid", meta[field],
                    f"must match the service account {what} if specified")])
        sa = self.store.peek(SERVICEACCOUNTS, namespace, name)
        if sa is None:
            raise status.not_found(SERVICEACCOUNTS, name)
        bound = self._bound_object(namespace, spec.get("boundObjectRef"))
        audiences = audiences or list(self.tokens.api_audiences)
        now = self.now()
        token, expires = self.tokens.mint(sa, audiences, expiration, now, bound)
        return {
            "kind": "TokenRequest", "apiVersion": f"{AUTHN}/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": rfc3339(now)},
            "spec": {"audiences": audiences, "expirationSeconds": expiration,
                     "boundObjectRef": spec.get("boundObjectRef")},
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)},
        }

    def _bound_object(self, namespace: str, ref) -> dict | None:
        if ref is None:
            return None
        ref = _object(ref, "spec.boundObjectRef")
        kind, name = ref.get("kind"), ref.get("name") or ""
        if kind != "Secret":
            # the lab runs no pods or nodes, so a token can only be bound to a Secret
            raise status.ApiError(400, "BadRequest", f"cannot bind token for {kind or 'an object without a kind'} "
                                  f'"{name}": the lab only supports boundObjectRef kind Secret (it has no pods)')
        secret = self.store.peek(SECRETS, namespace, name)
        if secret is None:
            raise status.not_found(SECRETS, name)
        if ref.get("uid") and ref["uid"] != secret["metadata"]["uid"]:
            raise status.ApiError(409, "Conflict", f"the UID in the bound object reference ({ref['uid']}) does "
                                  f"not match the UID in record. The object might have been deleted and then "
                                  f"recreated", {"name": name, "kind": "secrets"})
        return {"kind": "Secret", "name": name, "uid": secret["metadata"]["uid"]}

    # --- TokenReview ------------------------------------------------------------------------------

    def token_review(self, body: dict) -> dict:
        spec = _object(body.get("spec"), "spec")
        token = spec.get("token")
        if not token or not isinstance(token, str):
            raise status.bad_request("token is required for TokenReview in authentication")
        audiences = spec.get("audiences") or []
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise status.bad_request("spec.audiences must be a list of strings")
        wanted = audiences or list(self.tokens.api_audiences)
        if token == self.admin_token:
            # a static token is audience-agnostic: it is valid for whatever audiences were asked for
            verdict = Verdict(True, username=self.admin.name, uid=self.admin.uid, groups=list(self.admin.groups),
                              audiences=wanted)
        else:
            verdict = self.tokens.verify(token, self.now(), wanted, self.lookup)
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

    @staticmethod
    def self_subject_review(user: User, body: dict) -> dict:
        return {"kind": "SelfSubjectReview", "apiVersion": f"{AUTHN}/v1", "metadata": _review_meta(body),
                "status": {"userInfo": user.info()}}

    def access_review(self, kind: str, caller: User, body: dict, namespace: str = "") -> dict:
        spec = _object(body.get("spec"), "spec")
        resource_attrs = spec.get("resourceAttributes")
        url_attrs = spec.get("nonResourceAttributes")
        if (resource_attrs is None) == (url_attrs is None):
            raise status.invalid(kind, AUTHZ, "", [FieldError(
                "spec.resourceAttributes", "FieldValueInvalid", resource_attrs,
                "exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        if kind == "SubjectAccessReview":
            user_name = spec.get("user") or ""
            groups = spec.get("groups") or []
            if not user_name and not groups:
                raise status.invalid(kind, AUTHZ, "", [FieldError(
                    "spec.user", "FieldValueInvalid", "", "at least one of user or group must be specified")])
            subject = User(str(user_name), str(spec.get("uid") or ""), tuple(str(g) for g in groups),
                           spec.get("extra") or {})
        else:
            subject = caller
        if resource_attrs is not None:
            attrs_in = _object(resource_attrs, "spec.resourceAttributes")
            ns = str(attrs_in.get("namespace") or "")
            if kind == "LocalSubjectAccessReview" and ns and ns != namespace:
                raise status.bad_request(f"spec.resourceAttributes.namespace must match namespace: {namespace}")
            if kind == "LocalSubjectAccessReview":
                ns = namespace
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
            meta["namespace"] = namespace
        return {"kind": kind, "apiVersion": f"{AUTHZ}/v1", "metadata": meta, "spec": spec, "status": result}

    def rules_review(self, caller: User, body: dict) -> dict:
        spec = _object(body.get("spec"), "spec")
        namespace = spec.get("namespace") or ""
        resource_rules, url_rules, incomplete = self.authorizer.rules_for(caller, str(namespace))
        return {"kind": "SelfSubjectRulesReview", "apiVersion": f"{AUTHZ}/v1", "metadata": _review_meta(body),
                "spec": spec, "status": {"resourceRules": resource_rules, "nonResourceRules": url_rules,
                                         "incomplete": incomplete}}


def _object(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise status.bad_request(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _review_meta(body: dict) -> dict:
    meta = dict(_object(body.get("metadata"), "metadata"))
    meta["creationTimestamp"] = None
    return meta
