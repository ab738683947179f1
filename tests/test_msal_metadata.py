"""msal's metadata documents are kept on disk for a day; nothing else is cached."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyrings.azure_artifacts.credentials._msal_http import FILE_NAME, MetadataCachingClient
from keyrings.azure_artifacts.egress import Egress
from keyrings.azure_artifacts.http import Http

OIDC = "/tenant/v2.0/.well-known/openid-configuration"


class Server(http.server.ThreadingHTTPServer):
    hits: list[str]
    status: int


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        body = b'{"issuer": "x"}'
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server(("127.0.0.1", 0), Handler)
    srv.hits, srv.status = [], 200
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def url(server: Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_metadata_is_fetched_once_across_clients_while_fresh(server: Server, tmp_path: Path) -> None:
    clock = [1000.0]
    for _ in range(3):  # three processes' worth of clients
        client = MetadataCachingClient(tmp_path, timeout=5, now=lambda: clock[0])
        response = client.get(url(server, OIDC))
        assert response.status_code == 200 and response.text == '{"issuer": "x"}'
        client.close()
    assert server.hits == [OIDC]
    clock[0] += 24 * 3600
    MetadataCachingClient(tmp_path, timeout=5, now=lambda: clock[0]).get(url(server, OIDC))
    assert server.hits == [OIDC, OIDC]  # stale after a day


def test_errors_and_other_requests_are_never_cached(server: Server, tmp_path: Path) -> None:
    http = Http(timeout=5, retries=0, egress=Egress.to(url(server, "/")))
    client = MetadataCachingClient(tmp_path, timeout=5, http=http)
    server.status = 503
    assert client.get(url(server, OIDC)).status_code == 503
    client.post(url(server, "/tenant/oauth2/v2.0/token"), data={"grant_type": "x"})
    client.get(url(server, "/something/else"))
    assert not (tmp_path / FILE_NAME).exists()
    server.status = 200
    client.get(url(server, OIDC))
    client.get(url(server, OIDC))
    assert server.hits.count(OIDC) == 2  # the 503 and the first 200


def test_a_damaged_cache_file_is_ignored(server: Server, tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("{not json")
    (tmp_path / FILE_NAME).chmod(0o600)
    assert MetadataCachingClient(tmp_path, timeout=5).get(url(server, OIDC)).status_code == 200
    assert MetadataCachingClient(tmp_path, timeout=5).get(url(server, OIDC)).status_code == 200
    assert server.hits == [OIDC]
