"""The chapter's security benefits, each demonstrated against the live target rather than asserted."""
from __future__ import annotations

from . import eso, failures, tokens
from .display import Note, Result
from .errors import LabOnly


def no_static_secrets(chapter) -> Note:
    """Scan every Secret in the cluster for long-lived credentials: only the API-key demo left one."""
    scan = chapter.cluster.find_static_credentials()
    store = chapter.secret_store()
    auth = store.body["spec"]["provider"]["akeyless"]["authSecretRef"]["kubernetesAuth"]
    rows = [(f"{ns}/{name}", f"{why}: {', '.join(keys)}") for ns, name, keys, why in scan.findings]
    rows.append(("SecretStore (Kubernetes auth)",
                 f"accessID {auth['accessID']} and k8sConfName {auth['k8sConfName']}: identifiers, not secrets"))
    found = ", ".join(f"{ns}/{name}" for ns, name, _, _ in scan.findings) or "none"
    return Note(f"scanned {scan.scanned} Secrets: static credentials found: {found}; "
                "the Kubernetes-auth SecretStore holds none", rows, ("where", "what"), title="static secrets")


def who_can_mint_tokens(chapter) -> Note:
    """Kubernetes RBAC decides who may obtain the workload's identity: ESO's controller may, others may not."""
    p = chapter.p
    controller = "external-secrets"
    chapter.cluster.ensure_namespace(p.eso_namespace)
    chapter.cluster.ensure_service_account(p.eso_namespace, controller)
    chapter.cluster.grant(p.namespace, controller, verbs=["create"], resources=["serviceaccounts/token"],
                          resource_names=[p.service_account], name="eso-mints-tokens",
                          subject_namespace=p.eso_namespace)
    rows = []
    for ns, name in ((p.eso_namespace, controller), (p.namespace, "debug-shell"), (p.namespace, p.service_account)):
        check = chapter.cluster.can_i("create", "serviceaccounts", namespace=p.namespace, subresource="token",
                                      name=p.service_account, user=chapter.sa_user(ns, name))
        rows.append((chapter.sa_user(ns, name), "yes" if check.allowed else "no"))
    return Note(f"who may mint tokens for {p.namespace}/{p.service_account} (create serviceaccounts/token)",
                rows, ("identity", "allowed"), title="Kubernetes-native identity")


def rotation(chapter) -> Note:
    """Every token is new: two in a row differ, and both authenticate while they live."""
    first, second = chapter.fresh_token(ensure=True), chapter.fresh_token()
    a, b = tokens.decode(first), tokens.decode(second)
    answers = [chapter.authenticate(t) for t in (first, second)]
    jti = (a.claims.get("jti", "-")[:8], b.claims.get("jti", "-")[:8])
    rows = [("jti (token id)", f"{jti[0]}... vs {jti[1]}...: "
             + ("different" if a.claims.get("jti") != b.claims.get("jti") else "same")),
            ("signature", "different" if first.split(".")[2] != second.split(".")[2] else "same"),
            ("/auth with the first", "accepted" if answers[0].ok else answers[0].error),
            ("/auth with the second", "accepted" if answers[1].ok else answers[1].error)]
    ok = first != second and all(x.ok for x in answers)
    return Note("two tokens minted a moment apart differ, and both work until they expire", rows,
                ("compared", "result"), title="token rotation", ok=ok)


def _answer(answer: eso.AuthAnswer) -> str:
    return "accepted" if answer.ok else f"refused: {answer.error}"


def revocation(chapter) -> Note:
    """Deleting and recreating the ServiceAccount revokes every token minted before; a new one works."""
    p = chapter.p
    before = chapter.fresh_token(ensure=True)
    chapter.cluster.recreate_service_account(p.namespace, p.service_account)
    old, new = chapter.authenticate(before), chapter.authenticate(chapter.fresh_token())
    return Note(f"ServiceAccount {p.namespace}/{p.service_account} recreated: its earlier tokens are refused, "
                "a new one works", [("token minted before", _answer(old)), ("token minted after", _answer(new))],
                ("token", "/auth answer"), title="revocation", ok=not old.ok and new.ok)


def expiry(chapter) -> Note:
    """Tokens expire by themselves: the lab moves its clock past exp, and back right after."""
    token = chapter.fresh_token(ensure=True)
    jump = tokens.decode(token).lifetime_seconds + failures.CLOCK_SKEW_LEEWAY + 1
    if not chapter.session.movable_clock:
        return Note("expiry: not run on this target (its clock cannot be moved): wait for the token's exp, "
                    "or revoke it as above", title="expiry")
    try:
        with chapter.session.clock.moved(jump):
            expired = chapter.authenticate(token)
    except LabOnly as exc:      # a lab that a workshop room shares keeps its clock
        return Note(f"expiry: not run on this lab ({exc.message}): wait for the token's exp, or revoke it as above",
                    title="expiry")
    fresh = chapter.authenticate(chapter.fresh_token())
    return Note(f"{jump} s later (exp plus the API server's 60 s leeway) the token is refused; the clock is back "
                "to real time and a fresh token works",
                [("the token, after exp", _answer(expired)), ("a token minted now", _answer(fresh))],
                ("token", "/auth answer"), title="expiry", ok=not expired.ok and fresh.ok)


def audit(chapter, limit: int = 15) -> Result:
    """Centralized audit: every request the workload's auth method made, with the ServiceAccount behind
    it, allowed or denied and why (the admin's own calls are left out)."""
    from .chapters.kubernetes_auth import audit_table
    return audit_table(chapter.session.audit(limit=limit, access_id=chapter.access_id()))


def least_privilege(chapter) -> Note:
    """The same identity that reads its secret is refused one path over."""
    p = chapter.p
    answer = chapter.authenticate(chapter.fresh_token())
    rows = []
    for path in (p.secret_path, p.other_secret_path):
        try:
            eso.post_command(chapter.gateway_url, "get-secret-value", {"names": [path], "version": 0, "token": answer.token},
                      chapter.gateway_ca_pem())
            rows.append((path, "read"))
        except eso.GatewayError as exc:
            rows.append((path, f"refused ({exc.status}): {exc.body}"))
    allowed = [r for r in rows if r[1] == "read"]
    return Note(f"{chapter.sa_user()} reads {p.secret_path} and is refused {p.other_secret_path}", rows,
                ("path", "result"), title="least privilege", ok=len(allowed) == 1 and allowed[0][0] == p.secret_path)
