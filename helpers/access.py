"""Akeyless access-role semantics as pure functions: path rules, capabilities, sub-claims, decisions.

Both sides use this module: the lab's gateway emulator to authorise requests, and the client side
to explain, from `get-role` data, why a real or emulated gateway said yes or no. It therefore does no
I/O and imports nothing from the rest of the package.

The rules follow Akeyless' RBAC documentation:
- a rule path is an item name or a pattern: `*` matches any run of characters (across `/`),
  `+` matches exactly one path segment; paths are compared with a leading `/`;
- capabilities are read, list, create, update, delete and deny; `list` is implied by every other
  capability, `deny` overrides everything, and anything not granted is denied;
- a role applies to a caller when it is associated with the caller's auth method and the
  association's sub-claims match the token's: every key must match (AND), any listed value of a key
  may match (OR), `*` and `?` are wildcards in values, case-sensitive unless the association says not;
- the caller's rights are the union over every applicable role.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

CAPABILITIES = ("read", "list", "create", "update", "delete", "deny")
RULE_TYPES = ("item-rule", "target-rule", "role-rule", "auth-method-rule", "search-rule", "reports-rule",
              "gw-reports-rule", "sra-reports-rule", "ara-reports-rule", "sra-rule", "ara-rule",
              "usage-reports-rule", "event-rule", "event-forwarder-rule", "reverse-rbac-rule")
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")


# --- paths -------------------------------------------------------------------------------------

def normalize_path(path: str) -> str:
    """`a//b/` -> `/a/b`: one leading slash, no repeated or trailing slashes (the root stays `/`)."""
    parts = [p for p in str(path or "").split("/") if p]
    return "/" + "/".join(parts)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern:
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "+":
            out.append("[^/]+")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def path_matches(pattern: str, path: str) -> bool:
    """Does rule path `pattern` cover item `path`? `*` spans segments, `+` is exactly one segment."""
    return _compiled(normalize_path(pattern)).match(normalize_path(path)) is not None


def expand_template(pattern: str, sub_claims: Mapping[str, Sequence[str]] | None) -> list[str]:
    """Rule paths may name sub-claims, `/{{namespace}}/*`: one concrete pattern per claim value.
    A template naming a claim the token lacks expands to nothing (it can grant nothing)."""
    names = _TEMPLATE.findall(pattern)
    if not names:
        return [pattern]
    results = [pattern]
    for name in dict.fromkeys(names):
        values = list((sub_claims or {}).get(name) or [])
        if not values:
            return []
        token = re.compile(r"\{\{\s*" + re.escape(name) + r"\s*\}\}")
        results = [token.sub(lambda _m, v=v: v, r) for r in results for v in values]
    return results


# --- capabilities ------------------------------------------------------------------------------

def validate_capabilities(capabilities: Iterable[str]) -> list[str]:
    """Lower-case, de-duplicated, in canonical order; ValueError naming any unknown capability."""
    wanted = [str(c).strip().lower() for c in capabilities if str(c).strip()]
    unknown = sorted(set(wanted) - set(CAPABILITIES))
    if unknown:
        raise ValueError(f"unknown capability {', '.join(unknown)}: use one of {', '.join(CAPABILITIES)}")
    if not wanted:
        raise ValueError(f"at least one capability is required ({', '.join(CAPABILITIES)})")
    return [c for c in CAPABILITIES if c in wanted]


def grants(capabilities: Iterable[str], capability: str) -> bool:
    """Does a rule with these capabilities grant `capability` (ignoring deny)? list is implied."""
    caps = set(capabilities)
    if capability in caps:
        return True
    return capability == "list" and bool(caps - {"deny"})


# --- sub-claims --------------------------------------------------------------------------------

def parse_sub_claims(raw: Mapping[str, object] | None) -> dict[str, list[str]]:
    """The request form `{key: "v1,v2"}` (or lists) into `{key: ["v1", "v2"]}`; empty values dropped."""
    result: dict[str, list[str]] = {}
    for key, value in (raw or {}).items():
        key = str(key).strip()
        if not key:
            raise ValueError("a sub-claim needs a name, e.g. namespace=app-ns")
        items = value if isinstance(value, (list, tuple)) else str(value if value is not None else "").split(",")
        values = [str(v).strip() for v in items if str(v).strip()]
        if not values:
            raise ValueError(f"sub-claim {key!r} has no value: use key=value (several values comma-separated)")
        result[key] = list(dict.fromkeys(values))
    return result


@lru_cache(maxsize=4096)
def _value_regex(expected: str, case_sensitive: bool) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in expected)
    return re.compile(body + r"\Z", 0 if case_sensitive else re.IGNORECASE)


def value_matches(expected: str, actual: str, case_sensitive: bool = True) -> bool:
    if "*" not in expected and "?" not in expected:
        return expected == actual if case_sensitive else expected.lower() == actual.lower()
    return _value_regex(expected, case_sensitive).match(actual) is not None


def sub_claims_mismatch(required: Mapping[str, Sequence[str]], actual: Mapping[str, Sequence[str]],
                        case_sensitive: bool = True) -> str | None:
    """None when every required key has a matching value; otherwise a sentence naming the first miss."""
    for key, expected_values in required.items():
        have = list(actual.get(key) or [])
        if not have:
            return f"the token has no sub-claim {key!r} (association requires {key}={','.join(expected_values)})"
        if not any(value_matches(e, a, case_sensitive) for e in expected_values for a in have):
            return (f"sub-claim {key}={','.join(have)} does not match the association's "
                    f"{key}={','.join(expected_values)}" + ("" if case_sensitive else " (case-insensitive)"))
    return None


def sub_claims_match(required: Mapping[str, Sequence[str]], actual: Mapping[str, Sequence[str]],
                     case_sensitive: bool = True) -> bool:
    return sub_claims_mismatch(required, actual, case_sensitive) is None


# --- decisions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRef:
    role: str
    path: str
    capabilities: tuple[str, ...]
    type: str = "item-rule"


@dataclass(frozen=True)
class RoleView:
    """What a decision needs of a role: its rules and its associations (from get-role/list-roles)."""

    name: str
    rules: tuple[RuleRef, ...] = ()
    associations: tuple["AssociationView", ...] = ()
    admin: bool = False


@dataclass(frozen=True)
class AssociationView:
    auth_method: str            # name or access id; matched against either
    sub_claims: Mapping[str, Sequence[str]] = field(default_factory=dict)
    case_sensitive: bool = True
    assoc_id: str = ""


@dataclass(frozen=True)
class Decision:
    """The outcome of one access check, with the role and rule that decided it."""

    allowed: bool
    capability: str
    path: str
    reason: str
    role: str | None = None
    rule: RuleRef | None = None
    applicable_roles: tuple[str, ...] = ()
    skipped_roles: tuple[tuple[str, str], ...] = ()     # (role, why it did not apply)
    sub_claim_mismatch: bool = False


def applicable_roles(roles: Iterable[RoleView], auth_method: Iterable[str] | str,
                     sub_claims: Mapping[str, Sequence[str]]) -> tuple[list[RoleView], list[tuple[str, str]]]:
    """Roles associated with this auth method (by name or access id) whose sub-claims match;
    plus, for the explainer, each associated role that did not apply and why."""
    ids = {auth_method} if isinstance(auth_method, str) else set(auth_method)
    ids = {i for i in ids if i}
    normalized = {normalize_path(i) for i in ids if not i.startswith("p-")}
    applied, skipped = [], []
    for role in roles:
        mine = [a for a in role.associations
                if a.auth_method in ids or normalize_path(a.auth_method) in normalized]
        if not mine:
            continue
        misses = []
        for assoc in mine:
            miss = sub_claims_mismatch(assoc.sub_claims, sub_claims, assoc.case_sensitive)
            if miss is None:
                applied.append(role)
                break
            misses.append(miss)
        else:
            skipped.append((role.name, "; ".join(misses)))
    return applied, skipped


def decide(roles: Iterable[RoleView], path: str, capability: str, *,
           sub_claims: Mapping[str, Sequence[str]] | None = None, rule_type: str = "item-rule",
           skipped: Sequence[tuple[str, str]] = ()) -> Decision:
    """Evaluate `capability` on `path` against already-applicable roles: deny wins, then any grant."""
    if capability not in CAPABILITIES or capability == "deny":
        raise ValueError(f"cannot check capability {capability!r}: use one of read, list, create, update, delete")
    path = normalize_path(path)
    roles = list(roles)
    names = tuple(r.name for r in roles)
    grant: tuple[RoleView, RuleRef] | None = None
    for role in roles:
        if role.admin:
            grant = grant or (role, RuleRef(role.name, "/*", CAPABILITIES[:5], rule_type))
            continue
        for rule in role.rules:
            if rule.type != rule_type:
                continue
            if not any(path_matches(p, path) for p in expand_template(rule.path, sub_claims)):
                continue
            if "deny" in rule.capabilities:
                return Decision(False, capability, path, f"denied by rule {rule.path} [deny] of role {role.name}",
                                role.name, rule, names, tuple(skipped))
            if grant is None and grants(rule.capabilities, capability):
                grant = (role, rule)
    if grant:
        role, rule = grant
        how = "admin role" if role.admin else f"rule {rule.path} [{','.join(rule.capabilities)}]"
        return Decision(True, capability, path, f"allowed by {how} of role {role.name}", role.name, rule,
                        names, tuple(skipped))
    if not roles and skipped:
        return Decision(False, capability, path, "sub claim mismatch: " + "; ".join(f"role {r}: {why}" for r, why in skipped),
                        None, None, names, tuple(skipped), sub_claim_mismatch=True)
    if not roles:
        return Decision(False, capability, path, "no access role is associated with this auth method",
                        None, None, names, tuple(skipped))
    also = ("; not applied (sub claim mismatch): " + "; ".join(f"role {r}: {why}" for r, why in skipped)
            if skipped else "")
    return Decision(False, capability, path,
                    f"no {rule_type} in role(s) {', '.join(names)} grants {capability} on {path}" + also,
                    None, None, names, tuple(skipped))


def explain(roles: Iterable[RoleView], auth_method: Iterable[str] | str, path: str, capability: str,
            sub_claims: Mapping[str, Sequence[str]] | None = None, *, rule_type: str = "item-rule") -> Decision:
    """The full question: may a token of `auth_method` with `sub_claims` do `capability` on `path`?"""
    sub_claims = sub_claims or {}
    applied, skipped = applicable_roles(roles, auth_method, sub_claims)
    return decide(applied, path, capability, sub_claims=sub_claims, rule_type=rule_type, skipped=skipped)


def effective_capabilities(roles: Iterable[RoleView], path: str, sub_claims: Mapping[str, Sequence[str]] | None = None,
                           *, rule_type: str = "item-rule") -> list[str]:
    """What an item's `client_permissions` shows: every capability the applicable roles grant on `path`."""
    roles = list(roles)
    allowed = [c for c in CAPABILITIES[:5]
               if decide(roles, path, c, sub_claims=sub_claims, rule_type=rule_type).allowed]
    return allowed
