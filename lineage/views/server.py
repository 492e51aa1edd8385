"""The lineage HTTP server: the web app of :mod:`lineage.views.app` served by uvicorn, on loopback.

So the Airflow OpenLineage provider or openlineage-spark can send here with an HTTP transport
(``url: http://127.0.0.1:5055``, endpoint ``api/v1/lineage``). There is no authentication: keep
it on loopback (the default) or behind something that adds it.

:func:`make_server` binds the port at once (an address in use fails there, with ``OSError``;
port 0 picks a free one, see ``.url``) and returns a server to run with ``serve_forever()``, in
the main thread (Ctrl-C stops it: in-flight requests get a few seconds to finish, then
``KeyboardInterrupt`` is raised, as from any blocking call) or in another thread (stopped by
``shutdown()``). :func:`serve` does both steps until interrupted.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

from lineage.store.metadata_store import MetadataStore

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)

SERVER_HEADER = "lakehouse-lineage/1"
GRACEFUL_SHUTDOWN_S = 5
"""How long requests still running at shutdown may take before they are cancelled."""


class LineageServer:
    """uvicorn serving the lineage app for one :class:`MetadataStore` on a bound socket."""

    def __init__(self, address: tuple[str, int], store: MetadataStore, *, owns_store: bool):
        self.store = store
        self._owns_store = owns_store
        self._server = _uvicorn(store)
        self._socket = _listen(*address)
        host, port = self._socket.getsockname()[:2]
        host = f"[{host}]" if ":" in str(host) else host
        self.url = f"http://{host}:{port}"  # where it answers, e.g. http://127.0.0.1:5055
        self._stopped = threading.Event()
        self._stopped.set()  # not serving yet

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Answer requests until :meth:`shutdown` or Ctrl-C (then ``KeyboardInterrupt``).

        ``poll_interval`` is accepted for callers written for :mod:`socketserver`; uvicorn looks
        for a shutdown every 0.1 s whatever it is.
        """
        self._stopped.clear()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` (called from another thread) and wait until it returns."""
        self._server.should_exit = True
        self._stopped.wait()

    def server_close(self) -> None:
        """Release the port, and the store if the server opened it."""
        self._socket.close()
        if self._owns_store:
            self.store.close()


def make_server(
    store: MetadataStore | str, host: str = "127.0.0.1", port: int = 0
) -> LineageServer:
    """A server bound to ``host:port`` (0: a free port; see ``.url``), not yet serving.

    ``store`` is an open store or a SQLAlchemy URL (the server then opens and closes it).
    """
    if not _is_loopback(host):
        log.warning("lineage server on %s: it has no authentication, anyone who can reach the "
                    "port can read and write lineage", host)
    owns = isinstance(store, str)
    opened = MetadataStore(store) if isinstance(store, str) else store
    try:
        return LineageServer((host, port), opened, owns_store=owns)
    except OSError:
        if owns:
            opened.close()
        raise


def serve(store_url: str, host: str = "127.0.0.1", port: int = 5055) -> None:
    """Serve the store at ``store_url`` on ``host:port`` until interrupted (Ctrl-C)."""
    server = make_server(store_url, host, port)
    log.info("lineage server on %s for %s", server.url, server.store.safe_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (an IPv6 address when ``host`` has a colon).

    Made with ``IPPROTO_TCP`` spelled out: asyncio turns Nagle's algorithm off only on sockets
    that say they are TCP, and with it on every response on a kept-alive connection waited for
    the client's delayed ACK of its headers (40 ms: 20 events/s through POST).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":  # rebind at once after a restart, as http.server did
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def _uvicorn(store: MetadataStore) -> uvicorn.Server:
    import uvicorn

    from lineage.views.app import create_app

    config = uvicorn.Config(
        create_app(store),
        loop="asyncio",
        http="h11",  # uvicorn's own dependency: the same protocol code wherever it runs
        lifespan="off",
        log_config=None,  # the host process configures logging, not uvicorn
        server_header=False,
        headers=[("server", SERVER_HEADER)],
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    return uvicorn.Server(config)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
