"""Where tokens go, end to end: only to the host they belong to, never where a 401 or a redirect
points, never over http unless a host section allows it, and through the configured proxy."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

import pytest
import trustme

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts._log import fingerprint
from keyrings.azure_artifacts.testing import FakeAzure, devops

if TYPE_CHECKING:
    from helpers import CleanEnv

APP_ID = "0e0e0e0e-0000-4000-8000-00000000e001"
APP_SECRET = "routing-app-secret-value"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")

Answer = tuple[int, list[tuple[str, str]]]


@dataclass
class Seen:
    method: str
    path: str
    authorization: Optional[str]


@dataclass
class Scripted:
    """A tiny HTTPS (or plain HTTP) server answering from a script and logging what it was sent."""

    script: Callable[[str, str], Answer]
    seen: list[Seen] = field(default_factory=list)
    base_url: str = ""
    host: str = ""


def _serve(scripted: Scripted, context: Optional[ssl.SSLContext]) -> Callable[[], None]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            scripted.seen.append(Seen(self.command, self.path, self.headers.get("Authorization")))
            status, headers = scripted.script(self.command, self.path)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_DELETE = do_HEAD = do_CONNECT = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    scripted.host = f"127.0.0.1:{server.server_address[1]}"
    scripted.base_url = f"{'https' if context else 'http'}://{scripted.host}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


def without_proxy_settings(env: dict[str, str]) -> dict[str, str]:
    """clean_env exempts loopback from proxies; these tests set HTTPS_PROXY / NO_PROXY themselves."""
    return {name: value for name, value in env.items() if name not in (*PROXY_VARS, *NO_PROXY_VARS)}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> Iterator[World]:
    """Two fakes and room for scripted servers, trusted through one CA bundle; os.environ is clean
    but for that bundle (requests reads it, and the proxy variables the tests set)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeAzure() as fake, FakeAzure() as other:
        for server in (fake, other):
            server.add_org("contoso")
            server.add_feed("contoso", "main")
            server.add_app(APP_ID, secret=APP_SECRET)
        bundle = clean_env.root / "bundle.pem"
        bundle.write_bytes(
            Path(fake.ca_path).read_bytes() + Path(other.ca_path).read_bytes() + ca.cert_pem.bytes()
        )
        clean_env.install(monkeypatch, without_proxy_settings(clean_env(ca=str(bundle))))
        w = World(fake, other, clean_env, str(bundle), context)
        yield w
        for stop in w.stops:
            stop()


@dataclass
class World:
    fake: FakeAzure
    other: FakeAzure
    clean_env: CleanEnv
    bundle: str
    context: ssl.SSLContext
    stops: list[Callable[[], None]] = field(default_factory=list)

    def scripted(self, script: Callable[[str, str], Answer], tls: bool = True) -> Scripted:
        server = Scripted(script)
        self.stops.append(_serve(server, self.context if tls else None))
        return server

    def env(self, config: str) -> dict[str, str]:
        """A CI job with a service principal, for an in-process lookup."""
        env = self.clean_env.for_lookup(
            config,
            ca=self.bundle,
            CI="1",
            AZURE_TENANT_ID=self.fake.default_tenant,
            AZURE_CLIENT_ID=APP_ID,
            AZURE_CLIENT_SECRET=APP_SECRET,
        )
        return without_proxy_settings(env)


def fake_section(fake: FakeAzure, extra: str = "") -> str:
    return f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{extra}'


def issued_by(fake: FakeAzure, found: Optional[tuple[str, str]]) -> bool:
    record = None if found is None else fake.lookup(found[1])
    return record is not None and not record.revoked


def fingerprints_sent_to(fake: FakeAzure) -> set[str]:
    return {r.secret_fingerprint for r in fake.requests if r.secret_fingerprint}


# -- one host's token stays with that host --------------------------------------------------------


def test_each_host_gets_its_own_token(world: World) -> None:
    fake, other = world.fake, world.other
    env = world.env(fake_section(fake) + fake_section(other))
    first = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    second = service.lookup(other.feed_url("contoso", "main"), None, environ=env)
    assert issued_by(fake, first) and issued_by(other, second)
    assert first != second  # same org name, other host: never the cached secret of the first
    mine = {fingerprint(r.secret) for r in fake.issued()}
    theirs = {fingerprint(r.secret) for r in other.issued()}
    assert not fingerprints_sent_to(other) & mine
    assert not fingerprints_sent_to(fake) & theirs


# -- what a 401 advertises ----------------------------------------------------------------------


def _evil_challenge(evil: str) -> Callable[..., object]:
    def challenge(fake: FakeAzure, org: object, status: int = 401) -> object:
        tenant = fake.default_tenant
        return devops.html_response(
            status,
            "<html>denied</html>",
            [
                ("WWW-Authenticate", f"Bearer authorization_uri={evil}/{tenant}"),
                ("X-VSS-ResourceTenant", tenant),
                ("X-VSS-AuthorizationEndpoint", f"{evil}/contoso/"),
            ],
        )

    return challenge


def test_challenge_pointing_at_a_foreign_token_service_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = world.fake
    evil = world.scripted(lambda method, path: (401, []))
    monkeypatch.setattr(devops, "challenge", _evil_challenge(evil.base_url))
    env = world.env(fake_section(fake))
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert evil.seen == []  # neither the Entra token nor anything else went there
    assert issued_by(fake, found)  # the token service of the configured host was used instead
    assert fake.count("session_token", auth_kind="entra") == 1


def test_challenge_pointing_at_a_foreign_authority_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default authority, a 401 naming another sign-in host is ignored: sign-in goes to
    login.microsoftonline.com (here: a refusing proxy on 127.0.0.1, so nothing leaves the machine)."""
    fake = world.fake
    evil = world.scripted(lambda method, path: (401, []))
    proxy = world.scripted(lambda method, path: (403, []), tls=False)
    monkeypatch.setattr(devops, "challenge", _evil_challenge(evil.base_url))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    # A host section signs in with Entra ID only when it names an authority (or a tenant).
    env = world.env(f'[artifacts host="{fake.host}"]\nauthority_host = https://login.microsoftonline.com\n')
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert evil.seen == []
    connects = {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert connects and all(c.startswith("login.microsoftonline.com:") for c in connects), connects


# -- proxies ----------------------------------------------------------------------------------


def test_https_proxy_is_used_and_no_proxy_honoured(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = world.fake
    proxy = world.scripted(lambda method, path: (403, []), tls=False)
    env = world.env(fake_section(fake, "timeout = 2\n"))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert f"{fake.host}" in {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert fake.count() == 0  # everything went to the proxy, which refused

    proxy.seen.clear()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert issued_by(fake, service.lookup(fake.feed_url("contoso", "main"), None, environ=env))
    assert proxy.seen == []


# -- redirects --------------------------------------------------------------------------------


def _vssps_env(world: World, vssps: Scripted) -> dict[str, str]:
    fake = world.fake
    return world.env(
        fake_section(fake, f"tenant = {fake.default_tenant}\nvssps_url = {vssps.base_url}/{{org}}\n")
    )


def _handed_its_entra_token(fake: FakeAzure, found: Optional[tuple[str, str]]) -> bool:
    """No session token was issued: the service principal's refused exchange fell back to its
    Entra token (what Microsoft's provider hands over for service connections)."""
    issued = None if found is None else fake.lookup(found[1])
    return issued is not None and issued.kind == "access" and fake.issued("session") == []


def test_redirect_to_another_host_drops_the_authorization_header(world: World) -> None:
    fake = world.fake
    target = f"{fake.base_url}/contoso/_apis/Token/SessionTokens?api-version=5.0-preview.1"
    vssps = world.scripted(lambda method, path: (307, [("Location", target)]))
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=_vssps_env(world, vssps))
    assert _handed_its_entra_token(fake, found)
    assert [s.authorization is not None for s in vssps.seen] == [True]  # the configured host got it
    assert fake.count("session_token") == 1
    assert fake.count("session_token", auth_kind="anonymous") == 1  # the other host did not


def test_redirect_on_the_same_host_keeps_the_authorization_header(world: World) -> None:
    def script(method: str, path: str) -> Answer:
        if path.startswith("/moved"):
            return 401, []
        return 307, [("Location", "/moved" + path)]

    vssps = world.scripted(script)
    found = service.lookup(world.fake.feed_url("contoso", "main"), None, environ=_vssps_env(world, vssps))
    assert _handed_its_entra_token(world.fake, found)
    assert [s.path.startswith("/moved") for s in vssps.seen] == [False, True]
    assert all(s.authorization and s.authorization.startswith("Bearer ") for s in vssps.seen)


def test_redirect_from_https_to_http_is_refused(world: World) -> None:
    plain = world.scripted(lambda method, path: (200, []), tls=False)
    vssps = world.scripted(lambda method, path: (302, [("Location", plain.base_url + path)]))
    assert (
        service.lookup(world.fake.feed_url("contoso", "main"), None, environ=_vssps_env(world, vssps)) is None
    )
    assert len(vssps.seen) == 1
    assert plain.seen == []


# -- http ------------------------------------------------------------------------------------


def test_http_is_refused_unless_the_host_section_allows_it(world: World) -> None:
    fake = world.fake
    url = fake.feed_url("contoso", "main").replace("https://", "http://")
    env = world.env(fake_section(fake))
    assert service.lookup(url, None, environ=env) is None
    assert service.resolve(url, env) is None
    assert fake.count() == 0
    env = world.env(fake_section(fake, "allow_http = true\n"))
    resolution = service.resolve(url, env)
    assert resolution is not None and resolution.ref.scheme == "http"
    for known in (
        "http://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        "http://contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/",
    ):
        assert service.lookup(known, None, environ=env) is None


def test_challenge_pointing_at_another_configured_host_is_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming a host in the config makes it trusted with its own feeds' secrets, not as the
    sign-in authority or token service of another host: that host would receive the client
    secret (or a refresh token) and the Entra token of this one."""
    fake, other = world.fake, world.other
    proxy = world.scripted(lambda method, path: (403, []), tls=False)
    monkeypatch.setattr(devops, "challenge", _evil_challenge(other.base_url))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    entra = "authority_host = https://login.microsoftonline.com\n"
    env = world.env(f'[artifacts host="{fake.host}"]\n{entra}[artifacts host="{other.host}"]\n{entra}')
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert other.count() == 0  # neither the client secret nor an Entra token went there
    connects = {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert connects and all(c.startswith("login.microsoftonline.com:") for c in connects), connects
