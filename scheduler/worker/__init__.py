"""The Celery worker's side (Django-free): the command that starts a worker, what runs a try in
a pool process, and the worker's hooks (registry, terminate). See command.py."""
