"""Authorization: the RBAC subset the workshop relies on, evaluated like the API server's RBAC authorizer.

system:masters is allowed before RBAC is consulted (the API server's privileged-group authorizer), so a
SelfSubjectAccessReview for the lab admin has an empty reason, as on a real cluster.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import status
from .resources import CLUSTERROLEBINDINGS, CLUSTERROLES, RBAC, ROLEBINDINGS, ROLES
from .status import go_quote
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
        if not isinstance(ref.get("name", ""), str):
            return []                   # never stored (objects.py refuses it); never a reason to fail a read
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

    def check_escalation(self, user: User, resource, namespace: str, obj: dict, old: dict | None = None) -> None:
        """403 when writing `obj` (a Role, ClusterRole or binding) would grant `user` more than it holds."""
        EscalationCheck(self).check(user, resource, namespace, obj, old)

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


# --- escalation prevention (the RBAC registry's ConfirmNoEscalation, BindingAuthorized, escalate/bind) ---

_ROLE_KINDS = {ROLES.plural, CLUSTERROLES.plural}
_BINDING_KINDS = {ROLEBINDINGS.plural, CLUSTERROLEBINDINGS.plural}
_GC_FIELDS = ("ownerReferences", "finalizers", "resourceVersion", "managedFields")


def _breakdown(rule: dict) -> list[dict]:
    """One rule per (group, resource, verb[, name]) and per (URL, verb): what each granted rule is checked as."""
    verbs = rule.get("verbs") or []
    names = rule.get("resourceNames") or []
    out = []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in verbs:
                base = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                out.extend([dict(base, resourceNames=[n]) for n in names] if names else [base])
    out.extend({"nonResourceURLs": [url], "verbs": [verb]} for url in rule.get("nonResourceURLs") or []
               for verb in verbs)
    return out


def _resources_cover(owned: list, wanted: list) -> bool:
    if "*" in owned:
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _covers(owner: dict, sub: dict) -> bool:
    def all_in(field: str) -> bool:
        owned = owner.get(field) or []
        return "*" in owned or all(v in owned for v in sub.get(field) or [])

    owner_names, sub_names = owner.get("resourceNames") or [], sub.get("resourceNames") or []
    names = not owner_names if not sub_names else (not owner_names or all(n in owner_names for n in sub_names))
    urls = all(any(_url_covers(o, p) for o in owner.get("nonResourceURLs") or [])
               for p in sub.get("nonResourceURLs") or [])
    return all_in("verbs") and all_in("apiGroups") and names and urls and \
        _resources_cover(owner.get("resources") or [], sub.get("resources") or [])


def _compact(rules: list[dict]) -> list[dict]:
    """Missing rules that differ only in their verb, merged (rbac's CompactRules)."""
    merged: dict[tuple, dict] = {}
    out = []
    for rule in rules:
        names = rule.get("resourceNames") or []
        simple = (len(rule.get("apiGroups") or []) == 1 and len(rule.get("resources") or []) == 1
                  and len(names) <= 1 and not rule.get("nonResourceURLs"))
        if not simple:
            out.append(rule)
            continue
        key = (rule["apiGroups"][0], rule["resources"][0], tuple(names))
        if key in merged:
            merged[key]["verbs"] += [v for v in rule["verbs"] if v not in merged[key]["verbs"]]
        else:
            merged[key] = {**rule, "verbs": list(rule["verbs"])}
    return out + list(merged.values())


def _go_strings(values) -> str:
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def compact_string(rule: dict) -> str:
    """rbac's CompactString: {APIGroups:["..."], Resources:["..."], ResourceNames:[...], Verbs:["..."]}"""
    parts = [f"{label}:{_go_strings(rule[field])}" for label, field in (
        ("APIGroups", "apiGroups"), ("Resources", "resources"), ("NonResourceURLs", "nonResourceURLs"),
        ("ResourceNames", "resourceNames"), ("Verbs", "verbs")) if rule.get(field)]
    return "{" + ", ".join(parts) + "}"


def _only_gc_fields_changed(new: dict, old: dict) -> bool:
    def strip(obj: dict) -> dict:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _GC_FIELDS}
        return dict(obj, metadata=meta)
    return strip(new) == strip(old)


def _agg(errors: list[str]) -> str:
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


class EscalationCheck:
    """Creating or updating a Role/ClusterRole needs its rules held (or `escalate` on it); a binding needs the
    referenced role's rules held (or `bind` on it). system:masters is exempt, as upstream."""

    def __init__(self, authorizer: Authorizer):
        self.authorizer = authorizer

    def check(self, user: User, resource, namespace: str, obj: dict, old: dict | None = None) -> None:
        if resource.group != RBAC or MASTERS in user.groups:
            return
        if old is not None and _only_gc_fields_changed(obj, old):
            return
        name = (obj.get("metadata") or {}).get("name") or ""
        if resource.plural in _ROLE_KINDS:
            escalate = Attributes(user, "escalate", namespace=namespace, group=RBAC, resource=resource.plural,
                                  name=name if old is not None else "")
            if not self.authorizer.authorize(escalate)[0]:
                self._confirm(user, resource, namespace, name, obj.get("rules") or [])
        elif resource.plural in _BINDING_KINDS:
            ref = obj.get("roleRef") or {}
            kind = ref.get("kind")
            plural = {"ClusterRole": CLUSTERROLES.plural, "Role": ROLES.plural}.get(kind)
            if plural is None:
                return                  # validation refuses it next
            bind = Attributes(user, "bind", namespace=namespace, group=ref.get("apiGroup") or "", resource=plural,
                              name=ref.get("name") or "")
            if self.authorizer.authorize(bind)[0]:
                return
            role_resource = CLUSTERROLES if kind == "ClusterRole" else ROLES
            role = self.authorizer.store.peek(role_resource, namespace if kind == "Role" else "", ref.get("name") or "")
            if role is None:     # upstream names the binding's resource with the role's name here
                raise status.not_found(resource, ref.get("name") or "")
            self._confirm(user, resource, namespace, name, role.get("rules") or [])

    def _confirm(self, user: User, resource, namespace: str, name: str, rules: list[dict]) -> None:
        owned: list[dict] = []
        errors: list[str] = []
        self.authorizer.last_errors = []
        for _, role_rules in self.authorizer._bindings(user, namespace):
            owned.extend(role_rules)
        errors = list(self.authorizer.last_errors)
        missing = [sub for rule in rules for sub in _breakdown(rule) if not any(_covers(o, sub) for o in owned)]
        if not missing:
            return
        listed = "\n".join(sorted({compact_string(rule) for rule in _compact(missing)}))
        message = (f"user {go_quote(user.name)} (groups={_go_strings(user.groups)}) is attempting to grant RBAC "
                   f"permissions not currently held:\n{listed}")
        if errors:
            message += f"; resolution errors: [{_agg(errors)}]"
        raise status.forbidden(resource, name, message)
