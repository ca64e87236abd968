"""The resource types the emulator serves: the one table discovery, routing, RBAC and storage agree on.

Only kinds the workshop teaches are here. Anything else is a 404, exactly as a real API server
answers for a resource it does not serve.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CRUD = ("create", "delete", "get", "list", "patch", "update", "watch")
COLLECTION = CRUD + ("deletecollection",)


@dataclass(frozen=True)
class Resource:
    group: str              # "" is the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    name_rule: str = "subdomain"    # subdomain | label | dns1035 | path-segment
    verbs: tuple = CRUD
    short_names: tuple = ()
    stored: bool = True             # False: a create-only review resource that is never stored
    subresources: dict = field(default_factory=dict)    # name -> (kind, group, version, verbs)
    delete_returns_object: bool = False     # the registry's ReturnDeletedObject: DELETE answers the object
    categories: tuple = ()
    stored_as: tuple = ()           # (group, plural) of the storage it shares (events.k8s.io events: core's)

    @property
    def storage(self) -> tuple[str, str]:
        return self.stored_as or (self.group, self.plural)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """`serviceaccounts` or `clusterroles.rbac.authorization.k8s.io`: how Status messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


EVENTS_GROUP = "events.k8s.io"
AUTHN = "authentication.k8s.io"
AUTHZ = "authorization.k8s.io"
RBAC = "rbac.authorization.k8s.io"

RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", False, "label", short_names=("ns",)),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, short_names=("sa",), verbs=COLLECTION,
             subresources={"token": ("TokenRequest", AUTHN, "v1", ("create",))}, delete_returns_object=True),
    Resource("", "v1", "secrets", "Secret", True, verbs=COLLECTION),
    Resource("", "v1", "configmaps", "ConfigMap", True, short_names=("cm",), verbs=COLLECTION),
    Resource("", "v1", "pods", "Pod", True, short_names=("po",), verbs=COLLECTION, categories=("all",),
             delete_returns_object=True),
    Resource("", "v1", "services", "Service", True, "dns1035", short_names=("svc",), verbs=COLLECTION,
             categories=("all",), delete_returns_object=True),
    Resource("", "v1", "events", "Event", True, verbs=COLLECTION, short_names=("ev",)),
    Resource(EVENTS_GROUP, "v1", "events", "Event", True, verbs=COLLECTION, short_names=("ev",),
             stored_as=("", "events")),
    Resource(AUTHN, "v1", "tokenreviews", "TokenReview", False, verbs=("create",), stored=False),
    Resource(AUTHN, "v1", "selfsubjectreviews", "SelfSubjectReview", False, verbs=("create",), stored=False),
    Resource(AUTHZ, "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, verbs=("create",),
             stored=False),
    Resource(AUTHZ, "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", False, verbs=("create",),
             stored=False),
    Resource(AUTHZ, "v1", "subjectaccessreviews", "SubjectAccessReview", False, verbs=("create",), stored=False),
    Resource(AUTHZ, "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview", True, verbs=("create",),
             stored=False),
    Resource(RBAC, "v1", "clusterroles", "ClusterRole", False, "path-segment", verbs=COLLECTION),
    Resource(RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False, "path-segment", verbs=COLLECTION),
    Resource(RBAC, "v1", "roles", "Role", True, "path-segment", verbs=COLLECTION),
    Resource(RBAC, "v1", "rolebindings", "RoleBinding", True, "path-segment", verbs=COLLECTION),
)

GROUPS: dict[str, list[str]] = {}
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, [])
    if _r.version not in GROUPS[_r.group]:
        GROUPS[_r.group].append(_r.version)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_PLURAL = {(r.group, r.plural): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def by_plural(group: str, plural: str) -> Resource:
    return _BY_PLURAL[(group, plural)]


NAMESPACES = by_plural("", "namespaces")
SERVICEACCOUNTS = by_plural("", "serviceaccounts")
SECRETS = by_plural("", "secrets")
CONFIGMAPS = by_plural("", "configmaps")
CLUSTERROLES = by_plural(RBAC, "clusterroles")
CLUSTERROLEBINDINGS = by_plural(RBAC, "clusterrolebindings")
ROLES = by_plural(RBAC, "roles")
ROLEBINDINGS = by_plural(RBAC, "rolebindings")
SERVICES = by_plural("", "services")
PODS = by_plural("", "pods")
EVENTS = by_plural("", "events")
EVENTS_V1 = by_plural(EVENTS_GROUP, "events")
