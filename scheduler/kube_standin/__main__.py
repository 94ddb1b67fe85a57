"""`python -m scheduler.kube_standin --kubeconfig PATH [--port N]`: the stand-in as a process."""

from scheduler.kube_standin.standin import main

main()
