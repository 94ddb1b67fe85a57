"""An API server on a background thread, for commands that run tasks in the foreground
(`dags test`, `tasks test`, benchmarks): task runners still talk to the Execution API over
real HTTP, exactly as they do under the standalone or distributed set-ups."""

from __future__ import annotations

import threading

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class InProcessApiServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = ThreadedWSGIServer((host, port), _QuietHandler, allow_reuse_address=True)
        self.httpd.set_app(get_wsgi_application())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):  # the socket API allows it; an IPv4 server gives str
            host = host.decode()
        return f"http://{host}:{port}"

    def __enter__(self) -> InProcessApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
