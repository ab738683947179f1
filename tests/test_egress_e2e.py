"""The egress gate end to end, against the fake: an "attacker" HTTPS listener on another port of
127.0.0.1 is named by a tampered discovery answer, a redirect from the managed-identity endpoint
or from the Azure Pipelines OIDC endpoint, or a crafted feed URL; it never sees a credential."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import pytest
from test_token_routing import World, fake_section, world  # noqa: F401 (a fixture)

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.discovery import Challenge, DiscoveryCache, org_key
from keyrings.azure_artifacts.egress import SECRET_HEADERS

if TYPE_CHECKING:
    from conftest import Logged

Script = Callable[[str, str], tuple[int, dict[str, str]]]


@dataclass
class Listener:
    """Records every request in full (headers and body) and answers from `script`."""

    script: Script
    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    base_url: str = ""

    def secrets_seen(self) -> list[str]:
        found = [
            name for _m, _p, headers, _b in self.seen for name in headers if name.lower() in SECRET_HEADERS
        ]
        return found + [f"body of {path}" for _m, path, _h, body in self.seen if body]


def listen(w: World, script: Script, tls: bool = True) -> Listener:
    listener = Listener(script)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            listener.seen.append((self.command, self.path, dict(self.headers.items()), body))
            status, headers = listener.script(self.command, self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls:
        server.socket = w.context.wrap_socket(server.socket, server_side=True)
    listener.base_url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    w.stops.append(stop)
    return listener


@pytest.fixture
def attacker(world: World) -> Listener:  # noqa: F811
    return listen(world, lambda method, path: (200, {}))


def test_a_tampered_discovery_answer_never_gets_the_token(
    world: World,  # noqa: F811
    attacker: Listener,
    logged: Logged,
) -> None:
    """discovery.json is state: if another process wrote a token service into it, the Entra token
    still goes only where this lookup's configuration allows."""
    fake = world.fake
    env = world.env(fake_section(fake))
    state = world.clean_env.state_dir
    DiscoveryCache(state).put(
        org_key(fake.host, "contoso"),
        Challenge(fake.default_tenant, fake.base_url, f"{attacker.base_url}/contoso"),
    )
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert attacker.seen == []
    host = attacker.base_url.split("//")[1]
    assert any(f"refused to send a credential to {host}" in line for line in logged.warnings()), (
        logged.lines()
    )


def test_a_redirect_from_the_managed_identity_endpoint_keeps_no_secret(
    world: World,  # noqa: F811
    attacker: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = listen(
        world, lambda method, path: (307, {"Location": f"{attacker.base_url}/stolen"}), tls=False
    )
    variables = {"IDENTITY_ENDPOINT": f"{endpoint.base_url}/msi/token", "IDENTITY_HEADER": "mi-secret-header"}
    for name, value in variables.items():  # msal reads them from os.environ
        monkeypatch.setenv(name, value)
    fake = world.fake
    config = fake_section(fake, f"tenant = {fake.default_tenant}\ncredential = managed_identity\n")
    env = {**world.env(config), **variables}
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert [h.get("X-IDENTITY-HEADER") for _m, _p, h, _b in endpoint.seen] == ["mi-secret-header"]
    assert attacker.seen and attacker.secrets_seen() == []  # it was asked, with nothing secret


def test_a_redirect_from_the_pipelines_oidc_endpoint_keeps_no_secret(
    world: World,  # noqa: F811
    attacker: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """azure-identity's own pipeline follows this redirect; its requests go through our gated session."""
    fake = world.fake
    job = fake.azure_pipelines_job("contoso")
    oidc = listen(world, lambda method, path: (307, {"Location": f"{attacker.base_url}/stolen"}))
    job["SYSTEM_OIDCREQUESTURI"] = f"{oidc.base_url}/oidctoken"
    for name, value in job.items():  # AzurePipelinesCredential reads SYSTEM_OIDCREQUESTURI itself
        monkeypatch.setenv(name, value)
    env = {**world.env(fake_section(fake)), **job}
    for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        env.pop(name)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert [h.get("Authorization", "").split(" ")[0] for _m, _p, h, _b in oidc.seen] == ["Bearer"]
    assert attacker.secrets_seen() == []


@pytest.mark.parametrize("encoded", ["127.0.0.1:{port}%2Fx", "127.0.0.1:{port}%23", "x%40127.0.0.1:{port}"])
def test_a_crafted_organization_never_becomes_the_token_service(
    world: World,  # noqa: F811
    attacker: Listener,
    encoded: str,
) -> None:
    """pkgs.codeapp.ms carries the organization in the path and its token service in the host
    (`https://{org}.vssps.codeapp.ms`): a name that decodes to `host:port/` must not move the
    session-token exchange (and the Entra token with it) to that host."""
    fake = world.fake
    port = attacker.base_url.rsplit(":", 1)[1]
    url = f"https://pkgs.codeapp.ms/{encoded.format(port=port)}/_packaging/main/pypi/simple/"
    env = world.env(f"[artifacts]\ntenant = {fake.default_tenant}\nauthority_host = {fake.base_url}\n")
    assert service.lookup(url, None, environ=env) is None
    assert attacker.seen == []


def test_plain_http_gets_only_a_static_credential(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    logged: Logged,
) -> None:
    """`allow_http = true` with a tenant: the Entra sign-in works (https), but neither the Entra
    token nor a session token goes to the http host, by request or as the answer; a static PAT
    configured for that host does."""
    fake = world.fake
    plain = listen(world, lambda method, path: (401, {}), tls=False)
    host = plain.base_url.split("//")[1]
    url = f"{plain.base_url}/contoso/_packaging/main/pypi/simple/"
    section = f'[artifacts host="{host}"]\nallow_http = true\ntenant = {fake.default_tenant}\n'
    for auth in ("session", "bearer", "pat"):
        env = world.env(f"{section}authority_host = {fake.base_url}\nauth = {auth}\n")
        assert service.lookup(url, None, environ=env) is None, auth
        assert plain.secrets_seen() == [], auth
    assert fake.count("token") == 0  # refused before any sign-in
    assert any("is plain http: only a static" in line for line in logged.warnings())
    monkeypatch.setenv("SERVER_PAT", "static-pat-for-the-http-host")
    env = world.env(f'[artifacts host="{host}"]\nallow_http = true\ntoken_env = SERVER_PAT\n')
    env["SERVER_PAT"] = "static-pat-for-the-http-host"
    assert service.lookup(url, None, environ=env) == ("VssSessionToken", "static-pat-for-the-http-host")


def test_a_tampered_pat_index_never_sends_the_pat_elsewhere(
    world: World,  # noqa: F811
    attacker: Listener,
) -> None:
    """A stored PAT is checked at the token service it was made at, read from the PAT index: if
    that entry names another host, the check is not sent (the PAT is used unverified)."""
    import time

    from keyrings.azure_artifacts.context import Context
    from keyrings.azure_artifacts.pat.mode import PatMode
    from keyrings.azure_artifacts.pat.policy import StoredPat
    from keyrings.azure_artifacts.signin import SignIn

    fake = world.fake
    env = world.env(fake_section(fake, f"tenant = {fake.default_tenant}\nauth = pat\n"))
    url = fake.feed_url("contoso", "main")
    resolution = service.resolve(url, env)
    assert resolution is not None
    ctx = Context(env)
    now = int(time.time())
    stored = StoredPat(
        secret="stored-pat-secret", authorization_id="a1", created_at=now, expires_at=now + 30 * 86400,
        scopes=("vso.packaging",), host=fake.host, org="contoso", project=None, feed="main",
        vssps_url=f"{attacker.base_url}/contoso", display_name="kr", username="VssSessionToken", service=url,
    )  # fmt: skip
    ctx.pat_store().put(PatMode().key(SignIn(resolution, ctx)), stored)
    assert service.lookup(url, None, environ=env) == ("VssSessionToken", "stored-pat-secret")
    assert attacker.seen == []


def test_doctor_checks_a_static_pat_over_http_and_nothing_else(
    world: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`doctor` sends the secret to the feed itself: over http only a static credential may go."""
    from keyrings.azure_artifacts import doctor

    plain = listen(world, lambda method, path: (200, {}), tls=False)
    host = plain.base_url.split("//")[1]
    url = f"{plain.base_url}/contoso/_packaging/main/pypi/simple/"
    env = world.env(f'[artifacts host="{host}"]\nallow_http = true\ntoken_env = SERVER_PAT\n')
    env["SERVER_PAT"] = "static-pat-for-the-http-host"
    steps = {step.name: step for step in doctor.run(url, env)}
    feed = [s for s in steps.values() if "HTTP 200" in s.detail]
    assert feed, [(s.name, s.status, s.detail) for s in steps.values()]
    sent = [h.get("Authorization") for _m, _p, h, _b in plain.seen if h.get("Authorization")]
    assert sent and all(a.startswith("Basic ") for a in sent)
