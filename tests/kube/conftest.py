"""The stand-in cluster's fixtures (defined in tests.kube.fixtures, shared with other tests)."""

from tests.kube.fixtures import kube_api, kube_cluster

__all__ = ["kube_api", "kube_cluster"]
