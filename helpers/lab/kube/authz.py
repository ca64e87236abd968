"""Authorization: the RBAC subset the workshop relies on, evaluated like the API server's RBAC authorizer.

system:masters is allowed before RBAC is consulted (the API server's privileged-group authorizer), so a
SelfSubjectAccessReview for the lab admin has an empty reason, as on a real cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .resources import CLUSTERROLEBINDINGS, CLUSTERROLES, ROLEBINDINGS, ROLES
from .tokens import sa_username

MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    uid: str = ""
    groups: tuple = ()
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    def info(self) -> dict:
        info = {"username": self.name}
        if self.uid:
            info["uid"] = self.uid
        info["groups"] = list(self.groups)
        if self.extra:
            info["extra"] = self.extra
        return info


ANONYMOUS = User("system:anonymous", groups=("system:unauthenticated",))


@dataclass(frozen=True)
class Attributes:
    """What a request wants to do (authorizer.Attributes)."""

    user: User
    verb: str
    namespace: str = ""
    group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""              # for non-resource requests (/healthz, /version, ...)

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)

    def forbidden_message(self) -> str:
        """responsewriters.forbiddenMessage"""
        who = f'User "{self.user.name}"'
        if not self.is_resource:
            return f'{who} cannot {self.verb} path "{self.path}"'
        resource = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        where = f'in the namespace "{self.namespace}"' if self.namespace else "at the cluster scope"
        return f'{who} cannot {self.verb} resource "{resource}" in API group "{self.group}" {where}'


def _has(values, wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    if not _has(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.is_resource:
        for url in rule.get("nonResourceURLs") or []:
            if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
                return True
        return False
    if not _has(rule.get("apiGroups") or [], attrs.group):
        return False
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    resources = rule.get("resources") or []
    if not ("*" in resources or combined in resources
            or (attrs.subresource and f"*/{attrs.subresource}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def subject_applies(subject: dict, user: User, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        return sa_username(subject.get("namespace") or binding_namespace, name or "") == user.name
    return False


def _describe_subject(subject: dict, binding_namespace: str) -> str:
    if subject.get("kind") == "ServiceAccount":
        return f'ServiceAccount "{subject.get("name")}/{subject.get("namespace") or binding_namespace}"'
    return f'{subject.get("kind")} "{subject.get("name")}"'


class Authorizer:
    def __init__(self, store):
        self.store = store

    def _role_rules(self, ref: dict, namespace: str, errors: list[str]) -> list[dict]:
        if ref.get("kind") == "ClusterRole":
            role = self.store.peek(CLUSTERROLES, "", ref.get("name", ""))
            if role is None:
                errors.append(f'clusterrole.rbac.authorization.k8s.io "{ref.get("name")}" not found')
        else:
            role = self.store.peek(ROLES, namespace, ref.get("name", ""))
            if role is None:
                errors.append(f'role.rbac.authorization.k8s.io "{ref.get("name")}" not found')
        return (role or {}).get("rules") or []

    def _bindings(self, user: User, namespace: str):
        """(description, rules) for every binding that applies to `user`, cluster bindings first."""
        errors: list[str] = []
        scopes = [(CLUSTERROLEBINDINGS, "")] + ([(ROLEBINDINGS, namespace)] if namespace else [])
        for resource, ns in scopes:
            for binding in self.store.iter(resource, ns if ns else None):
                for subject in binding.get("subjects") or []:
                    if not subject_applies(subject, user, ns):
                        continue
                    ref = binding.get("roleRef") or {}
                    bname = binding["metadata"]["name"] + (f"/{ns}" if ns else "")
                    kind = "RoleBinding" if ns else "ClusterRoleBinding"
                    description = (f'{kind} "{bname}" of {ref.get("kind")} "{ref.get("name")}" to '
                                   f'{_describe_subject(subject, ns)}')
                    yield description, self._role_rules(ref, ns, errors)
                    break
        self.last_errors = errors

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason), with the reason the API server would give."""
        if MASTERS in attrs.user.groups:
            return True, ""
        self.last_errors = []
        for description, rules in self._bindings(attrs.user, attrs.namespace):
            if any(rule_allows(rule, attrs) for rule in rules):
                return True, f"RBAC: allowed by {description}"
        errors = self.last_errors
        if not errors:
            return False, ""
        return False, "RBAC: " + (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")

    def rules_for(self, user: User, namespace: str) -> tuple[list[dict], list[dict], bool]:
        """SelfSubjectRulesReview: (resource rules, non-resource rules, incomplete). Unlike authorize(),
        system:masters gets no shortcut: upstream lists what RBAC grants, which for the admin includes the
        bootstrap cluster-admin binding's wildcards."""
        resource_rules, url_rules = [], []
        for _, rules in self._bindings(user, namespace):
            for rule in rules:
                if rule.get("nonResourceURLs"):
                    url_rules.append({"verbs": rule["verbs"], "nonResourceURLs": rule["nonResourceURLs"]})
                else:
                    resource_rules.append({k: rule[k] for k in ("verbs", "apiGroups", "resources", "resourceNames")
                                           if rule.get(k) is not None})
        return resource_rules, url_rules, False
