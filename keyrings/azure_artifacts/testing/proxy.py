"""A forwarding HTTPS proxy for tests: it records every `CONNECT` and tunnels the bytes.

Company networks put an HTTP proxy in front of everything; clients reach an https URL through
it with `CONNECT host:port` and then speak TLS end to end (RFC 9110, section 9.3.6). This one
answers `CONNECT` only (anything else gets 405), remembers the target and the
`Proxy-Authorization` header it came with, and never runs longer than its timeouts allow.

    with ConnectProxy() as proxy:
        env["HTTPS_PROXY"] = proxy.url
        ...
        assert proxy.targets() == ["127.0.0.1:8443", ...]
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from dataclasses import dataclass
from typing import Any, Optional

TUNNEL_THREAD = "connect-proxy-tunnel"
IDLE_TIMEOUT = 10.0  # a tunnel with no traffic for this long is closed
_HEAD_LIMIT = 16 * 1024


@dataclass(frozen=True)
class Connect:
    """One CONNECT the proxy saw."""

    target: str  # host:port as the client wrote it
    proxy_authorization: Optional[str]


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        client: socket.socket = self.request
        client.settimeout(IDLE_TIMEOUT)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < _HEAD_LIMIT:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rpartition(" ")[0]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if method.upper() != "CONNECT":
            self.server.others.append(lines[0])
            client.sendall(
                b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        self.server.connects.append(Connect(target, headers.get("proxy-authorization")))
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=IDLE_TIMEOUT)
        except (OSError, ValueError):
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _splice(client, upstream)


def _splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until one side closes or nothing moves for IDLE_TIMEOUT."""
    peers = {a: b, b: a}
    while True:
        ready, _, _ = select.select(list(peers), [], [], IDLE_TIMEOUT)
        if not ready:
            return
        for sock in ready:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connects: list[Connect] = []
        self.others: list[str] = []

    def process_request(self, request: Any, client_address: Any) -> None:
        # Named, so a test can tell the proxy's own connections to the target from the client's.
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=TUNNEL_THREAD,
            daemon=True,
        )
        thread.start()


class ConnectProxy:
    """The proxy on 127.0.0.1 (a free port); `url` optionally carries `user:password@`."""

    def __init__(self, credentials: Optional[str] = None) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, name="connect-proxy", daemon=True)
        self.port = int(self._server.server_address[1])
        self.credentials = credentials

    @property
    def url(self) -> str:
        auth = f"{self.credentials}@" if self.credentials else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    @property
    def connects(self) -> list[Connect]:
        return list(self._server.connects)

    @property
    def others(self) -> list[str]:
        """Request lines of anything that was not a CONNECT (refused with 405)."""
        return list(self._server.others)

    def targets(self) -> list[str]:
        return [c.target for c in self._server.connects]

    def start(self) -> ConnectProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ConnectProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
