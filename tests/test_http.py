"""Http: retry policy, timeouts, redirects that drop credentials, redaction — against a local stub."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

from keyrings.azure_artifacts.egress import Egress
from keyrings.azure_artifacts.errors import ServiceError
from keyrings.azure_artifacts.http import (
    Http,
    _origin,
    _safe_url,
    basic_auth_header,
    is_sign_in_url,
    redact,
    refused,
)

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ"
PAT52 = "a" * 20 + "b3" * 16


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Stub:
    """A tiny scripted HTTP server on 127.0.0.1: per-path queues of replies, a request log."""

    def __init__(self) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.log: list[tuple[str, str, dict[str, str], bytes]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                stub.log.append((self.command, self.path, dict(self.headers.items()), body))
                queue = stub.script.get(path) or [Reply(404, b"{}")]
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (timeout tests)
                    self.wfile.write(reply.body)

            do_GET = do_POST = do_DELETE = do_HEAD = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def hits(self, path: str) -> int:
        return sum(1 for _m, p, _h, _b in self.log if p.split("?")[0] == path)


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    s.thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()


@pytest.fixture
def http(stub: Stub) -> Iterator[Http]:
    """May send credentials to the stub (and nowhere else)."""
    h = Http(timeout=2.0, retries=2, backoff=0.01, egress=Egress.to(stub.url))
    yield h
    h.close()


def test_get_retries_5xx_then_succeeds(stub: Stub, http: Http) -> None:
    stub.script["/x"] = [Reply(503), Reply(502), Reply(200, b'{"ok": true}')]
    response = http.get(stub.url + "/x")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert stub.hits("/x") == 3


def test_get_gives_up_with_one_line_message(stub: Stub, http: Http) -> None:
    stub.script["/x"] = [Reply(503)]
    with pytest.raises(ServiceError) as info:
        http.get(stub.url + "/x?secret=1", headers={"Authorization": "Bearer " + JWT})
    message = str(info.value)
    assert message == f"GET {stub.url}/x: HTTP 503 after 2 retries"
    assert stub.hits("/x") == 3


def test_check_false_returns_5xx(stub: Stub, http: Http) -> None:
    stub.script["/x"] = [Reply(500)]
    assert http.request("GET", stub.url + "/x", check=False).status_code == 500


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_4xx_never_retried(stub: Stub, http: Http, status: int) -> None:
    stub.script["/x"] = [Reply(status)]
    assert http.get(stub.url + "/x").status_code == status
    assert stub.hits("/x") == 1


@pytest.mark.parametrize(("status", "tries"), [(503, 3), (429, 3), (500, 1), (502, 1), (504, 1)])
def test_post_retried_only_when_server_did_not_act(stub: Stub, http: Http, status: int, tries: int) -> None:
    stub.script["/p"] = [Reply(status)]
    response_or_error: object
    try:
        response_or_error = http.request("POST", stub.url + "/p", json={"a": 1})
    except ServiceError as exc:
        response_or_error = exc
    assert stub.hits("/p") == tries
    if status >= 500:
        assert isinstance(response_or_error, ServiceError)


class Sleeps:
    """Stands in for the `time` module urllib3's Retry sleeps with: records, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.calls.append(seconds)

    time = staticmethod(time.time)  # Retry-After given as an HTTP date is measured from now


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    import urllib3.util.retry

    recorder = Sleeps()
    monkeypatch.setattr(urllib3.util.retry, "time", recorder)
    return recorder


@pytest.mark.parametrize(
    ("retry_after", "waited"), [("1", 1.0), ("7", 7.0), ("10", 10.0), ("11", 10.0), ("3600", 10.0)]
)
def test_retry_after_is_honoured_but_capped(
    stub: Stub, http: Http, sleeps: Sleeps, retry_after: str, waited: float
) -> None:
    stub.script["/x"] = [Reply(429, headers={"Retry-After": retry_after}), Reply(200)]
    assert http.get(stub.url + "/x").status_code == 200
    assert sleeps.calls == [waited]  # what the server asked for, at most MAX_RETRY_AFTER
    assert stub.hits("/x") == 2


def test_backoff_between_retries_is_bounded(stub: Stub, sleeps: Sleeps) -> None:
    h = Http(retries=3, backoff=0.5)
    stub.script["/x"] = [Reply(503), Reply(503), Reply(503), Reply(200)]
    assert h.get(stub.url + "/x").status_code == 200
    h.close()
    assert stub.hits("/x") == 4
    # urllib3 retries the first failure at once, then waits backoff * 2^(n-1) plus up to
    # `backoff` of jitter: 1-1.5 s, then 2-2.5 s.
    first, second = sleeps.calls
    assert 1.0 <= first <= 1.5 and 2.0 <= second <= 2.5, sleeps.calls


def test_timeout_is_bounded_and_named(stub: Stub) -> None:
    h = Http(timeout=0.3, retries=0)
    stub.script["/slow"] = [Reply(200, delay=1.5)]
    with pytest.raises(ServiceError, match=r"^GET .*/slow: timed out after 0.3 s$"):
        h.get(stub.url + "/slow")  # without the timeout the stub would have answered 200 after 1.5 s
    assert stub.hits("/slow") == 1
    h.close()


def test_post_read_timeout_not_retried(stub: Stub) -> None:
    h = Http(timeout=0.3, retries=3, backoff=0.01)
    stub.script["/p"] = [Reply(200, delay=0.8)]
    with pytest.raises(ServiceError, match="timed out"):
        h.request("POST", stub.url + "/p", json={})
    assert stub.hits("/p") == 1
    h.close()


def test_connection_refused_is_service_error() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    h = Http(timeout=1.0, retries=1, backoff=0.01, egress=Egress.to(f"http://127.0.0.1:{port}"))
    with pytest.raises(ServiceError, match="connection failed") as info:
        h.get(f"http://127.0.0.1:{port}/x", headers={"Authorization": "Bearer " + JWT})
    assert JWT not in str(info.value)
    h.close()


def test_same_origin_redirect_keeps_authorization(stub: Stub, http: Http) -> None:
    stub.script["/a"] = [Reply(302, headers={"Location": "/b"})]
    stub.script["/b"] = [Reply(200)]
    http.get(stub.url + "/a", headers={"Authorization": "Bearer t"})
    assert stub.log[-1][1] == "/b"
    assert stub.log[-1][2].get("Authorization") == "Bearer t"


def test_cross_origin_redirect_drops_authorization_and_body(stub: Stub, http: Http) -> None:
    other = Stub()
    other.thread.start()
    try:
        other.script["/b"] = [Reply(200)]
        # Same host, other port: a different origin.
        stub.script["/a"] = [Reply(307, headers={"Location": other.url + "/b"})]
        response = http.request(
            "POST", stub.url + "/a", headers={"Authorization": "Bearer t", "X-Keep": "1"}, json={"k": 1}
        )
        assert response.status_code == 200
        method, path, headers, body = other.log[-1]
        assert (method, path, body) == ("POST", "/b", b"")
        assert "Authorization" not in headers
        assert headers.get("X-Keep") == "1"
    finally:
        other.server.shutdown()
        other.server.server_close()


def test_303_becomes_get(stub: Stub, http: Http) -> None:
    stub.script["/a"] = [Reply(303, headers={"Location": "/b"})]
    stub.script["/b"] = [Reply(200)]
    http.request("POST", stub.url + "/a", json={"x": 1})
    assert stub.log[-1][0] == "GET"
    assert stub.log[-1][3] == b""


def test_redirect_loop_is_bounded(stub: Stub, http: Http) -> None:
    stub.script["/a"] = [Reply(302, headers={"Location": "/a"})]
    with pytest.raises(ServiceError, match="redirects"):
        http.get(stub.url + "/a")
    assert stub.hits("/a") == 6


def test_no_netrc_override(stub: Stub, http: Http, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login u password p\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    stub.script["/x"] = [Reply(200)]
    http.get(stub.url + "/x", headers={"Authorization": "Bearer mine"})
    assert stub.log[-1][2]["Authorization"] == "Bearer mine"


def test_connection_error_message_is_short(stub: Stub) -> None:
    h = Http(timeout=1.0, retries=0)
    with pytest.raises(ServiceError) as info:
        h.get("http://127.0.0.1:1/x?code=" + JWT)
    message = str(info.value)
    assert message.startswith("GET http://127.0.0.1:1/x: connection failed: ")
    assert JWT not in message and "\n" not in message and "Pool" not in message
    h.close()


@pytest.mark.parametrize(
    ("text", "leaks"),
    [
        ("Authorization: Bearer " + JWT, [JWT]),
        ("token=" + JWT + " rest", [JWT]),
        ("Basic dXNlcjpwYXNz", ["dXNlcjpwYXNz"]),
        ("pat " + PAT52 + ".", [PAT52]),
        ("x" * 84, ["x" * 84]),
    ],
)
def test_redact_masks_secrets(text: str, leaks: list[str]) -> None:
    out = redact(text)
    for leak in leaks:
        assert leak not in out
    assert "***" in out


@pytest.mark.parametrize(
    "text",
    [
        "GET https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/: HTTP 503",
        "tenant 72f988bf-86f1-41af-91ab-2d7cd011db47",
        "a" * 51,
    ],
)
def test_redact_leaves_plain_text(text: str) -> None:
    assert redact(text) == text


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import keyrings.azure_artifacts.http, keyrings.azure_artifacts.discovery,"
        " keyrings.azure_artifacts.cache, keyrings.azure_artifacts.exchange.session,"
        " keyrings.azure_artifacts.pat.client;"
        " bad = [m for m in ('requests', 'urllib3', 'msal_extensions', 'keyring') if m in sys.modules];"
        " print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- pure helpers: where a token may go, what a message may show, what "refused" means ------------


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://pkgs.dev.azure.com/contoso/", ("https", "pkgs.dev.azure.com", 443)),
        ("HTTPS://PKGS.dev.azure.com:443/x", ("https", "pkgs.dev.azure.com", 443)),
        ("http://127.0.0.1/x", ("http", "127.0.0.1", 80)),
        ("https://127.0.0.1:8443/x", ("https", "127.0.0.1", 8443)),
        ("https://[::1]:9443/x", ("https", "::1", 9443)),
        ("https://user:pw@host.example/x", ("https", "host.example", 443)),
        ("https://host.example:99999/x", ("https", "host.example", 443)),  # a bad port is no port
        ("ftp://host.example/x", ("ftp", "host.example", None)),
        ("/relative/only", ("", "", None)),
    ],
)
def test_origin_is_scheme_host_and_effective_port(url: str, origin: tuple[str, str, Optional[int]]) -> None:
    """The Authorization header survives a redirect only when this triple is unchanged."""
    assert _origin(url) == origin


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://user:secret@host.example/a/b?token=x#frag", "https://host.example/a/b"),
        ("https://host.example:8443/a", "https://host.example:8443/a"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("https://[::1]/a", "https://[::1]/a"),
        ("https://host.example:99999/a", "https://host.example/a"),
        ("https://HOST.example/a", "https://host.example/a"),
    ],
)
def test_safe_url_keeps_no_userinfo_query_or_fragment(url: str, safe: str) -> None:
    assert _safe_url(url) == safe


@pytest.mark.parametrize(
    ("url", "sign_in"),
    [
        ("https://login.microsoftonline.com/common/oauth2/authorize", True),
        ("https://LOGIN.microsoftonline.com./x", True),
        ("https://login.microsoftonline.us/x", True),
        ("https://app.vssps.visualstudio.com/_signin?realm=x", True),
        ("https://spsprodcus1.vssps.visualstudio.com/go", True),
        ("https://dev.azure.com/contoso/_signin", True),
        ("https://dev.azure.com/contoso/_SIGNIN/x", True),
        ("https://dev.azure.com/contoso/_signinx", False),
        ("https://login.microsoftonline.com.evil.io/x", False),
        ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", False),
        ("https://vssps.dev.azure.com/contoso/", False),
    ],
)
def test_is_sign_in_url(url: str, sign_in: bool) -> None:
    assert is_sign_in_url(url) is sign_in


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    url: str = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    content: bytes = b""
    text: str = ""

    def json(self) -> Any:
        return None


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (401, {}, True),
        (403, {}, False),
        (200, {}, False),
        (203, {"Content-Type": "text/html; charset=utf-8"}, True),  # the sign-in page
        (203, {}, True),
        (203, {"Content-Type": "application/JSON"}, False),  # non-authoritative but real data
        (302, {"Location": "https://app.vssps.visualstudio.com/_signin?realm=x"}, True),
        (301, {"Location": "https://login.microsoftonline.com/common/"}, True),
        (303, {"Location": "/contoso/_signin"}, True),  # relative to the request URL
        (307, {"Location": "/contoso/_signin"}, True),
        (308, {"Location": "/contoso/_signin"}, True),
        (302, {"Location": "/contoso/_packaging/main/pypi/simple/demo/"}, False),
        (302, {"Location": ""}, False),
        (302, {}, False),
        (304, {"Location": "/contoso/_signin"}, False),  # not a redirect
    ],
)
def test_refused_reads_401_203_and_sign_in_redirects(
    status: int, headers: dict[str, str], expected: bool
) -> None:
    assert refused(Answer(status, headers)) is expected


@pytest.mark.parametrize(
    ("username", "secret", "header"),
    [
        ("VssSessionToken", "abc", "Basic VnNzU2Vzc2lvblRva2VuOmFiYw=="),
        ("", "pat", "Basic OnBhdA=="),
        ("é", "ü", "Basic w6k6w7w="),  # UTF-8, as Azure DevOps decodes it
    ],
)
def test_basic_auth_header(username: str, secret: str, header: str) -> None:
    assert basic_auth_header(username, secret) == header
