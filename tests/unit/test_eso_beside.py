"""`lab eso` leaves a cluster where someone else installed ESO alone (its CRDs not applied by the lab)."""
from helpers.lab import eso as lab_eso
from helpers.lab import eso_beside


class _Cluster:
    def __init__(self, crd):
        self.crd = crd

    def get_object(self, api_version, kind, namespace, name):
        assert (kind, name) == ("CustomResourceDefinition", "externalsecrets.external-secrets.io")
        return self.crd


def _crd(*managers):
    return {"metadata": {"managedFields": [{"manager": m} for m in managers]}}


def test_a_helm_install_is_foreign_the_labs_own_is_not():
    assert eso_beside._foreign_install(_Cluster(_crd("helm")))
    assert not eso_beside._foreign_install(_Cluster(_crd(lab_eso.FIELD_MANAGER, "kube-apiserver")))
    assert not eso_beside._foreign_install(_Cluster(None))
