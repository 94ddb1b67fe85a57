"""Tests of the stand-in Kubernetes cluster (scheduler.kube_standin) and its fixtures."""
