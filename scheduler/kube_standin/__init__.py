"""A stand-in Kubernetes cluster: the real Kubernetes REST API for what the executor calls
(pods: create, get, list, watch with resourceVersion and 410 Gone, log, delete, patch; secrets;
namespaces), served by aiohttp to the unchanged official client through a kubeconfig, and a
"kubelet" that runs each pod's container command as a local process (see standin.py).

Why it lives in the product and not under tests/: two users need it. The tests drive the
Kubernetes executor against it, and `manage.py benchmark engine --executor kubernetes` starts
it when no real cluster is configured (ORCH_KUBERNETES_CONFIG_FILE unset), so the figures can
be taken on any machine. Product code must never import from tests/, so the stand-in is a
product package that both import; tests/kube keeps only the tests and their fixtures.

Its place in the layers (pyproject.toml's import-linter contracts): it stands alone. It imports
no Django and nothing of ours (it is a cluster, not part of the orchestrator), and nothing of
the engine, the domain or the surfaces may import it, so no running system can end up talking
to a fake cluster; only the benchmarks (a surface: commands) start it.
"""
