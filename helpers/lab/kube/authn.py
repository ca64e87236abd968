"""Authentication: who is calling. Client certificate first, then the bearer token, else system:anonymous,
in the order of the API server's authenticator chain; then impersonation (Impersonate-* headers).

Bearer tokens go through kube-apiserver's token success cache: a token that authenticated for a set of
audiences keeps authenticating, with the same user, for SUCCESS_TTL seconds (--token-success-cache-ttl's
default), even if its ServiceAccount is deleted or recreated meanwhile. Failures are not cached. TokenReview
and request authentication share the cache, so revoking a ServiceAccount takes effect within 10 s, not at
once. The cache runs on the lab clock: advancing it by 10 s or more empties it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from typing import Callable

from . import status
from .authz import ANONYMOUS, Attributes, User
from .resources import AUTHN, Resource
from .tokens import TokenAuthority, Verdict, sa_groups

SUCCESS_TTL = 10.0
_PRUNE_AT = 512         # entries before expired ones are swept out

_USERS = Resource("", "v1", "users", "User", False)
_GROUPS = Resource("", "v1", "groups", "Group", False)
_UIDS = Resource(AUTHN, "v1", "uids", "UID", False)
_EXTRAS = Resource(AUTHN, "v1", "userextras", "UserExtra", False)
_SAS = Resource("", "v1", "serviceaccounts", "ServiceAccount", True)


def user_from_certificate(peercert: dict | None) -> User | None:
    """CN is the user name and each O a group: how a client certificate names a Kubernetes user."""
    if not peercert:
        return None
    name, groups = "", []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                name = value
            elif key == "organizationName":
                groups.append(value)
    if not name:
        return None
    return User(name, groups=tuple(groups + ["system:authenticated"]))


class Authenticator:
    def __init__(self, admin_token: str, tokens: TokenAuthority, now: Callable[[], float],
                 lookup: Callable[[str, str, str], dict | None]):
        self._admin_token = admin_token
        self._tokens = tokens
        self._now = now
        self._lookup = lookup
        self._successes: dict[bytes, tuple[float, Verdict]] = {}    # key -> (lab time it expires, verdict)
        # the real-apiserver mode names its token-file admin the same way (helpers/lab/apiserver.py)
        self.admin = User("lab-admin", uid="lab-admin", groups=("system:masters", "system:authenticated"))

    def authenticate(self, authorization: str, peercert: dict | None) -> User:
        user = user_from_certificate(peercert)
        if user is not None:
            return user
        parts = authorization.strip().split(" ")
        if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
            return ANONYMOUS
        if not parts[1].isascii():
            raise status.unauthorized()         # no token is anything but ASCII: the API server's 401
        verdict = self.token(parts[1])
        if not verdict.authenticated:
            raise status.unauthorized()
        return User(verdict.username, verdict.uid, tuple(verdict.groups), verdict.extra)

    def token(self, token: str, audiences: list[str] | None = None) -> Verdict:
        """Authenticate a bearer token for `audiences` (empty: the API server's own), through the success
        cache. A TokenReview and a request's Authorization header end up here alike."""
        wanted = list(audiences) if audiences else list(self._tokens.api_audiences)
        key = hashlib.sha256(json.dumps([wanted, token]).encode("utf-8", "surrogateescape")).digest()
        now = self._now()
        cached = self._successes.get(key)
        if cached is not None and now < cached[0]:
            return cached[1]
        if hmac.compare_digest(token.encode("utf-8", "surrogateescape"), self._admin_token.encode()):
            # a static token is audience-agnostic: it is valid for whatever audiences were asked for
            verdict = Verdict(True, username=self.admin.name, uid=self.admin.uid, groups=list(self.admin.groups),
                              audiences=wanted)
        else:
            verdict = self._tokens.verify(token, now, wanted, self._lookup)
        if verdict.authenticated:
            if len(self._successes) >= _PRUNE_AT:
                self._successes = {k: v for k, v in self._successes.items() if now < v[0]}
            self._successes[key] = (now + SUCCESS_TTL, verdict)
        return verdict


def _extra_key(header: str) -> str:
    """Impersonate-Extra-<key>: the key is lower-cased, then percent-decoded (keys may hold / and :)."""
    return urllib.parse.unquote(header[len("impersonate-extra-"):].lower())


def impersonate(user: User, headers, authorize: Callable[[Attributes], tuple[bool, str]]) -> User:
    """Apply Impersonate-User/-Group/-Uid/-Extra-*, each authorised as the API server's impersonation filter
    does: `impersonate` on users (or the serviceaccount), groups, userextras/<key> and uids (403 otherwise).
    A ServiceAccount's own groups come with it, unchecked, when no group is asked for."""
    name = headers.get("Impersonate-User", "")
    groups = headers.getall("Impersonate-Group", []) if hasattr(headers, "getall") else []
    uid = headers.get("Impersonate-Uid", "")
    extra: dict[str, list[str]] = {}
    for key in headers:
        if key.lower().startswith("impersonate-extra-"):
            values = headers.getall(key) if hasattr(headers, "getall") else [headers[key]]
            extra.setdefault(_extra_key(key), []).extend(values)
    if not name:
        if groups or uid or extra:
            raise status.bad_request("requested impersonation of groups, uid or extra without impersonating a user: "
                                     "add an Impersonate-User header")
        return user

    def check(resource: Resource, target: str, namespace: str = "", subresource: str = "") -> None:
        attrs = Attributes(user, "impersonate", namespace=namespace, group=resource.group, resource=resource.plural,
                           subresource=subresource, name=target)
        allowed, reason = authorize(attrs)
        if not allowed:
            why = attrs.forbidden_message() + (f": {reason}" if reason else "")
            raise status.forbidden(resource, target, why)

    sa_parts = name.split(":")
    implied: list[str] = []
    if len(sa_parts) == 4 and sa_parts[:2] == ["system", "serviceaccount"]:
        check(_SAS, sa_parts[3], namespace=sa_parts[2])
        if not groups:
            implied = sa_groups(sa_parts[2])[:-1]
    else:
        check(_USERS, name)
    for group in groups:
        check(_GROUPS, group)
    for key, values in extra.items():
        for value in values:
            check(_EXTRAS, value, subresource=key)
    if uid:
        check(_UIDS, uid)
    groups = list(dict.fromkeys(implied + groups))
    if name == ANONYMOUS.name:
        if "system:unauthenticated" not in groups:
            groups.append("system:unauthenticated")
    elif "system:authenticated" not in groups:
        groups.append("system:authenticated")
    return User(name, uid, tuple(groups), extra)
