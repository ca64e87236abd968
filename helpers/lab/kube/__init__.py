"""The lab's Kubernetes API emulator.

Contract with the lab process (helpers/lab/server.py): `create_app(ctx: LabContext) -> aiohttp.web.Application`.
Modules: resources (the served kinds), store (objects + journal), objects/validation (defaulting and
checks), tokens (service-account JWTs), authn/authz (who calls, RBAC), reviews (TokenRequest, TokenReview,
access reviews), discovery/tables/selectors/patch (API conventions), api (HTTP only).
"""
from .api import create_app

__all__ = ["create_app"]
