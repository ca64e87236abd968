"""helpers.aks: each AKS point names the az/kubectl command that reads it on Azure and reads the same value
from the current target (here the lab, through its kubeconfig, as it would read an AKS cluster)."""
from types import SimpleNamespace

import pytest

from helpers import aks, tokens
from helpers.cluster import connect
from helpers.config import Settings

NS, SA = "aks-points", "aks-points-sa"


@pytest.fixture(scope="module")
def cluster(lab):
    cluster = connect(Settings.load(target="lab", lab_dir=str(lab.dir)))
    cluster.ensure_namespace(NS)
    cluster.ensure_service_account(NS, SA)
    return cluster


def test_az_commands_read_every_value_on_azure():
    texts = [c.text() for c in aks.cluster_commands("my-aks", "rg")]
    assert texts[0] == "az aks get-credentials --resource-group rg --name my-aks --overwrite-existing"
    for query in ("fqdn", "privateFqdn", "apiServerAccessProfile.authorizedIpRanges", "oidcIssuerProfile.issuerUrl"):
        assert f"az aks show --resource-group rg --name my-aks --query {query} -o tsv" in " ".join(texts)


def test_api_server_host_and_ca_are_read_from_the_kubeconfig(cluster):
    host = aks.api_server_host(cluster)
    assert host.here == cluster.server and "loopback" in host.verdict
    ca = aks.ca_certificate(cluster)
    assert ca.ok and cluster.ca_certificate().sha256[:23] in ca.here
    assert any("certificate-authority-data" in c.text() for c in ca.commands)


@pytest.mark.parametrize("server, words", [
    ("https://my-aks-dns-1a2b3c4d.hcp.westeurope.azmk8s.io:443", "public AKS API server"),
    ("https://my-aks-dns-1a2b3c4d.privatelink.westeurope.azmk8s.io:443", "private cluster"),
])
def test_aks_hosts_are_told_apart(server, words):
    assert words in aks.api_server_host(SimpleNamespace(server=server)).verdict


def test_issuer_is_the_discovery_documents_and_the_tokens(cluster):
    point = aks.issuer(cluster, NS, SA)
    issuer = cluster.discovery().issuer
    minted = tokens.decode(cluster.request_token(NS, SA).token)
    assert point.ok and minted.issuer == issuer
    assert point.verdict.startswith(f"--k8s-issuer {issuer}")
    assert f"tokens carry iss {issuer}" in point.here
    assert "oidcIssuerProfile.issuerUrl" in " ".join(c.text() for c in point.commands)


def test_audiences_show_the_api_servers_default(cluster):
    point = aks.audiences(cluster, NS, SA, "akeyless")
    default = tokens.decode(cluster.request_token(NS, SA).token).audiences
    assert point.ok and str(default) in point.here and "akeyless" not in default


def test_every_point_renders_one_line_of_text(cluster):
    points = aks.every_point(cluster, SimpleNamespace(namespace=NS, service_account=SA, audience="akeyless"))
    assert [p.name for p in points][-1] == "AKS workload identity: the azure_ad contrast"
    for point in points:
        bundle = point._repr_mimebundle_()
        assert "\n" not in bundle["text/plain"] and "<table" in bundle["text/html"]
