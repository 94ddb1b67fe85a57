"""A stand-in Kubernetes cluster for tests (see tests.kube.standin)."""
