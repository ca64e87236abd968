"""What differs on AKS, point by point: where each value the gateway needs comes from on Azure (the az
command), and the same value read from the current target (the lab, or any kubeconfig) when it can be.

Every reader goes through helpers.cluster only, so it reads a real AKS exactly as it reads the lab.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import urlparse

from . import tokens
from .commands import Command, cluster_ca
from .display import Result, html_table

AKS_DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local"   # without the OIDC issuer add-on
AKS_OIDC_ISSUER_SHAPE = "https://<region>.oic.prod-aks.azure.com/<tenant-id>/<cluster-guid>/"


def az_show(cluster_name: str, resource_group: str, query: str, capture: str, why: str) -> Command:
    return Command("az", ("az", "aks", "show", "--resource-group", resource_group, "--name", cluster_name,
                          "--query", query, "-o", "tsv"), why, capture=capture)


def get_credentials(cluster_name: str, resource_group: str) -> Command:
    return Command("az", ("az", "aks", "get-credentials", "--resource-group", resource_group, "--name", cluster_name,
                          "--overwrite-existing"), "merge the cluster's kubeconfig (server URL and CA included)")


def cluster_commands(cluster_name: str, resource_group: str) -> list[Command]:
    """az commands that read, on Azure, every AKS value the chapter needs."""
    def show(query, capture, why):
        return az_show(cluster_name, resource_group, query, capture, why)
    return [get_credentials(cluster_name, resource_group),
            show("fqdn", "AKS_FQDN", "the public API server name (empty on a private cluster)"),
            show("privateFqdn", "AKS_PRIVATE_FQDN", "set on a private cluster: reachable only from its VNet"),
            show("apiServerAccessProfile.authorizedIpRanges", "AKS_AUTHORIZED_RANGES",
                 "set when only these source ranges may reach the API server"),
            show("oidcIssuerProfile.issuerUrl", "AKS_OIDC_ISSUER",
                 "the service-account issuer once the OIDC issuer is enabled (az aks update --enable-oidc-issuer)")]


@dataclass
class AksPoint(Result):
    """One AKS difference: what it is, the command that reads it on AKS, and the value read here."""

    name: str
    explanation: str
    commands: list[Command] = field(default_factory=list)
    here: str = ""                  # the value read from the current target
    verdict: str = ""               # what that value means for the gateway config
    ok: bool = True

    title = "on AKS"

    def summary(self) -> str:
        return f"{self.name}: {self.verdict or self.here or self.explanation}"

    def rows(self):
        rows = [("on AKS", self.explanation)]
        rows += [("command", c.text()) for c in self.commands]
        if self.here:
            rows.append(("on this target", self.here))
        return rows

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#c62828"
        return (f"<div style='border-left:4px solid {colour};padding:4px 8px'><b>{html.escape(self.name)}</b>: "
                f"{html.escape(self.verdict or self.explanation)}{html_table(self.rows())}</div>")


def credentials(cluster, cluster_name: str = "<cluster>", resource_group: str = "<resource-group>") -> AksPoint:
    return AksPoint("kubeconfig", "az aks get-credentials writes the context, server URL and CA; with Entra ID "
                    "integration kubectl logs in through kubelogin (the gateway never does: it uses a JWT)",
                    [get_credentials(cluster_name, resource_group)],
                    here=f"context {cluster.context}, user {cluster.kubeconfig_user}",
                    verdict=f"this target's context is {cluster.context}")


def api_server_host(cluster, cluster_name: str = "<cluster>", resource_group: str = "<resource-group>") -> AksPoint:
    host = urlparse(cluster.server).hostname or ""
    if ".privatelink." in host:
        verdict = "a private cluster: only a gateway inside the VNet (or a peered one) can reach it"
    elif host.endswith(".azmk8s.io"):
        verdict = "a public AKS API server: the gateway reaches it unless authorized IP ranges exclude it"
    elif host in ("127.0.0.1", "localhost", "::1"):
        verdict = "a loopback API server (the lab): only a gateway on this machine reaches it"
    else:
        verdict = f"API server {host}: k8s-host must be reachable from where the gateway runs"
    return AksPoint("API server host (k8s-host)", "https://<fqdn>:443, from az aks show --query fqdn (privateFqdn on "
                    "a private cluster); the kubeconfig's server is the same URL",
                    [az_show(cluster_name, resource_group, "fqdn", "AKS_FQDN", "public FQDN"),
                     az_show(cluster_name, resource_group, "privateFqdn", "AKS_PRIVATE_FQDN", "private FQDN"),
                     cluster_ca_commands()["K8S_HOST"]],
                    here=cluster.server, verdict=verdict)


def cluster_ca_commands() -> dict:
    """The kubectl lines that read k8s-host, k8s-ca-cert and the issuer, by the variable they set."""
    return {c.capture: c for c in cluster_ca(None)}


def ca_certificate(cluster) -> AksPoint:
    ca = cluster.ca_certificate()
    here = f"{ca.subject}, SHA-256 {ca.sha256[:23]}..., {len(ca.b64)} base64 chars" if ca else "no CA in the kubeconfig"
    return AksPoint("cluster CA (k8s-ca-cert)", "AKS signs its API server with a per-cluster CA (CN=ca); the "
                    "kubeconfig from get-credentials carries it as certificate-authority-data, already base64",
                    [cluster_ca_commands()["K8S_CA_CERT"]], here=here, ok=ca is not None,
                    verdict="pass certificate-authority-data unchanged as --k8s-ca-cert" if ca else
                    "no CA: the gateway could only use the system trust store, which AKS' CA is not in")


def issuer(cluster, namespace: str | None = None, service_account: str | None = None) -> AksPoint:
    """The issuer the discovery document names and, when a ServiceAccount is given, the one its tokens carry."""
    found = cluster.discovery()
    here = found.issuer or f"discovery failed: {found.error}"
    token_iss = ""
    if namespace and service_account:
        minted = cluster.request_token(namespace, service_account, expiration_seconds=600)
        if minted.ok:
            token_iss = tokens.decode(minted.token).issuer
            here += f"; tokens carry iss {token_iss}"
    shape = ("the AKS OIDC issuer" if ".oic.prod-aks.azure.com/" in (found.issuer or "") else
             "the default issuer (OIDC issuer not enabled)" if found.issuer == AKS_DEFAULT_ISSUER else "this issuer")
    return AksPoint("service-account issuer (k8s-issuer)",
                    f"without the OIDC issuer AKS tokens carry {AKS_DEFAULT_ISSUER}; enabling it (az aks update "
                    f"--enable-oidc-issuer) changes iss to {AKS_OIDC_ISSUER_SHAPE} for every new token. Either set "
                    "--k8s-issuer to exactly that and keep issuer validation on, or --disable-issuer-validation "
                    "true and let the API server's TokenReview vouch for the token",
                    [az_show("<cluster>", "<resource-group>", "oidcIssuerProfile.issuerUrl", "AKS_OIDC_ISSUER",
                             "the OIDC issuer URL"), cluster_ca_commands()["K8S_ISSUER"]],
                    here=here, ok=found.ok and (not token_iss or token_iss == found.issuer),
                    verdict=f"--k8s-issuer {found.issuer} ({shape})" if found.ok else "issuer unknown")


def audiences(cluster, namespace: str, service_account: str, audience: str) -> AksPoint:
    """The API server's default audience (a token requested with none) against the auth method's audience."""
    minted = cluster.request_token(namespace, service_account, expiration_seconds=600)
    default = tokens.decode(minted.token).audiences if minted.ok else []
    return AksPoint("audiences", "a token requested without audiences gets the API server's own (on AKS its "
                    "https://<fqdn> URL): set serviceAccountRef.audiences to the auth method's --audience so "
                    "the token is useless to anyone else, the API server included",
                    [Command("kubectl", ("kubectl", "create", "token", service_account, "-n", namespace), "no "
                             "audience asked", pipe="""jq -R 'split(".")[1] | @base64d | fromjson | .aud'""")],
                    here=f"default audiences {default}" if minted.ok else minted.error,
                    verdict=f"default {default}; the auth method asks for {audience!r}", ok=minted.ok)


def private_cluster(cluster) -> AksPoint:
    point = api_server_host(cluster)
    return AksPoint("private cluster or authorized IP ranges",
                    "the gateway calls the API server for every login: on a private cluster, or with authorized "
                    "IP ranges that exclude the gateway, TokenReview times out (dial tcp ...: i/o timeout). Run the "
                    "gateway in the cluster (Helm chart) or a peered VNet, with --k8s-host https://kubernetes."
                    "default.svc and --use-gw-service-account (its pod's ServiceAccount as the reviewer)",
                    [az_show("<cluster>", "<resource-group>", "apiServerAccessProfile.enablePrivateCluster",
                             "AKS_PRIVATE", "true on a private cluster"),
                     az_show("<cluster>", "<resource-group>", "apiServerAccessProfile.authorizedIpRanges",
                             "AKS_AUTHORIZED_RANGES", "the allowed source ranges")],
                    here=cluster.server, verdict=point.verdict)


def workload_identity() -> AksPoint:
    return AksPoint("AKS workload identity: the azure_ad contrast",
                    "with workload identity a pod's projected token is exchanged for an Entra ID token, and "
                    "Akeyless' azure_ad method checks that one: no gateway TokenReview, no reviewer, no cluster CA, "
                    "but an Azure identity and a federated credential per workload. Kubernetes auth (this chapter) "
                    "works on any cluster and keeps identity in Kubernetes RBAC",
                    [az_show("<cluster>", "<resource-group>", "securityProfile.workloadIdentity.enabled",
                             "AKS_WORKLOAD_IDENTITY", "true when the webhook is on")],
                    verdict="an alternative, not a step of this chapter")


def every_point(cluster, names) -> list[AksPoint]:
    """All the AKS points, each read from `cluster` (the chapter's ServiceAccount must exist)."""
    return [credentials(cluster), api_server_host(cluster), ca_certificate(cluster),
            issuer(cluster, names.namespace, names.service_account),
            audiences(cluster, names.namespace, names.service_account, names.audience),
            private_cluster(cluster), workload_identity()]

