"""The Kubernetes executor: a pod per try (executor.py; module docstring there)."""
