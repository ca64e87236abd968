"""The lab's Kubernetes API emulator.

Contract with the lab process (helpers/lab/server.py): `create_app(ctx: LabContext) -> aiohttp.web.Application`.
Modules: resources (the served kinds), store (objects + journal), registry (the verbs on stored kinds, dryRun),
objects/validation (defaulting and checks), admission (allocators, ServiceAccount admission), pods, services,
events, controllers (what kube-controller-manager would add), tokens (service-account JWTs), authn/authz (who
calls, RBAC), reviews (TokenRequest, TokenReview, access reviews), schema/openapi/fieldvalidation (generated
schemas, /openapi, unknown fields), fieldsets/managedfields/apply (field ownership, managedFields, server-side
apply), watch (the change window), discovery/tables/selectors/patch/options (API conventions),
api/wire/watchstream (HTTP only).
"""
from .api import create_app

__all__ = ["create_app"]
