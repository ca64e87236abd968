"""The gateway's TokenReview client: asks the configured cluster whether a service-account JWT is
valid, exactly as a real Akeyless gateway does (POST <k8s-host>/apis/authentication.k8s.io/v1/tokenreviews
over HTTPS, TLS verified with the config's CA, bearer = the reviewer JWT or the caller's own JWT).

It works against any cluster: the lab's emulator, the real kube-apiserver, or a remote one.
"""
from __future__ import annotations

import asyncio
import hashlib
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from . import keys

# A dial that gets no answer (a private API server, authorized IP ranges) fails after a few seconds, so the
# chapter's "unreachable" cell does not hold a learner for the whole request timeout.
TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=4)
REVIEW_PATH = "/apis/authentication.k8s.io/v1/tokenreviews"


def redact_jwt(token: str) -> str:
    """header.payload.<masked>: enough to see the claims, useless to replay."""
    parts = (token or "").split(".")
    if len(parts) == 3:
        return f"{parts[0]}.{parts[1]}.<masked>"
    return "<masked>" if token else ""


def _redacted_response(payload):
    """The cluster echoes spec.token in its reply: mask it there too before it is recorded."""
    if isinstance(payload, dict) and isinstance(payload.get("spec"), dict) and "token" in payload["spec"]:
        return {**payload, "spec": {**payload["spec"], "token": redact_jwt(payload["spec"]["token"])}}
    return payload


@dataclass
class ReviewOutcome:
    """What the cluster said: `user` is set when it authenticated the token, `error` otherwise."""

    ok: bool
    error: str = ""
    http_status: int | None = None
    user: dict = field(default_factory=dict)
    audiences: list = field(default_factory=list)
    record: dict = field(default_factory=dict)


class Reviewer:
    """One aiohttp session for the lab process; one SSL context per distinct CA."""

    def __init__(self):
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    def _ssl(self, ca_cert_b64: str) -> ssl.SSLContext:
        key = hashlib.sha256((ca_cert_b64 or "").encode()).hexdigest()
        context = self._contexts.get(key)
        if context is None:
            if ca_cert_b64:
                context = ssl.create_default_context(cadata=keys.ca_pem(ca_cert_b64))
            else:
                context = ssl.create_default_context()   # no CA configured: the system trust store
            self._contexts[key] = context
        return context

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def review(self, *, host: str, ca_cert: str, reviewer_jwt: str, token: str,
                     audiences: list[str]) -> ReviewOutcome:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        bearer, bearer_kind = (reviewer_jwt, "token-reviewer-jwt") if reviewer_jwt else (token, "the caller's JWT")
        spec: dict = {"token": token}
        if audiences:
            spec["audiences"] = audiences
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": spec}
        url = host.rstrip("/") + REVIEW_PATH
        record = {"url": url, "bearer": bearer_kind, "bearer_token": redact_jwt(bearer),
                  "request": {**body, "spec": {**spec, "token": redact_jwt(token)}}}
        ssl_arg = self._ssl(ca_cert) if url.startswith("https://") else False
        try:
            async with self._session.post(url, json=body, ssl=ssl_arg,
                                          headers={"Authorization": f"Bearer {bearer}",
                                                   "Accept": "application/json"}) as response:
                status = response.status
                try:
                    payload = await response.json(content_type=None)
                except ValueError:
                    payload = {"raw": (await response.text())[:500]}
        except aiohttp.ClientConnectorCertificateError as exc:
            # a Go gateway's words (net/http + crypto/x509), not Python's "[SSL: ...] (_ssl.c:N)"
            return self._fail(record, f"failed to call the Kubernetes TokenReview API: Post \"{url}\": tls: failed "
                                      f"to verify certificate: x509: certificate signed by unknown authority: "
                                      f"set k8s-ca-cert to the cluster's CA")
        except aiohttp.ClientSSLError as exc:
            return self._fail(record, f"failed to call the Kubernetes TokenReview API at {host}: TLS error: {exc}")
        except aiohttp.ClientConnectorError as exc:
            return self._fail(record, f"failed to call the Kubernetes TokenReview API at {host}: "
                                      f"dial tcp: {exc.os_error or exc}: check k8s-host")
        except aiohttp.ConnectionTimeoutError:
            return self._fail(record, f"failed to call the Kubernetes TokenReview API: Post \"{url}\": dial tcp "
                                      f"{urlsplit(url).netloc}: i/o timeout: check that k8s-host is reachable "
                                      f"from the gateway")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return self._fail(record, f"failed to call the Kubernetes TokenReview API at {host}: "
                                      f"{type(exc).__name__}: {exc or 'timed out'}")
        record.update(http_status=status, response=_redacted_response(payload))
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        if status == 401:
            return self._fail(record, f"the cluster rejected the TokenReview bearer ({bearer_kind}) with 401 "
                                      f"Unauthorized: {message or payload}: renew token-reviewer-jwt", status)
        if status == 403:
            return self._fail(record, f"the token reviewer is forbidden to create TokenReviews (403 Forbidden): "
                                      f"{message}: bind its service account to ClusterRole system:auth-delegator",
                              status)
        if status not in (200, 201) or not isinstance(payload, dict):
            return self._fail(record, f"the Kubernetes TokenReview API at {host} answered {status}: "
                                      f"{message or payload}", status)
        result = payload.get("status") or {}
        if not result.get("authenticated"):
            reason = result.get("error") or "no reason given"
            return self._fail(record, f"the cluster did not authenticate the service account token "
                                      f"(TokenReview status.authenticated=false): {reason}", status)
        return ReviewOutcome(True, http_status=status, user=result.get("user") or {},
                             audiences=list(result.get("audiences") or []), record=record)

    @staticmethod
    def _fail(record: dict, error: str, status: int | None = None) -> ReviewOutcome:
        record["error"] = error
        return ReviewOutcome(False, error=error, http_status=status, record=record)
