"""The egress gate: which origins a lookup may send credentials to, and that Http, the redirects it
follows and the session handed to azure-identity all pass through it."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import pytest

from keyrings.azure_artifacts import egress
from keyrings.azure_artifacts.egress import Egress, carries_credential, for_lookup
from keyrings.azure_artifacts.errors import EgressRefused
from keyrings.azure_artifacts.http import SUPPRESS_SIGN_IN, Http, gated_session

FEED = "https://pkgs.dev.azure.com"


def lookup_egress(
    feed: str = FEED,
    org: str = "contoso",
    *,
    entra: bool = True,
    allow_http: bool = False,
    authority: str = "https://login.microsoftonline.com",
    vssps: Optional[str] = None,
    environ: Optional[dict[str, str]] = None,
    allow_imds: bool = False,
) -> Egress:
    return for_lookup(
        feed,
        org,
        entra=entra,
        allow_http=allow_http,
        authority_hosts=(authority,),
        vssps_template=vssps,
        environ=environ or {},
        allow_imds=allow_imds,
    )


@pytest.mark.parametrize(
    ("headers", "body", "carries"),
    [
        ({}, None, False),
        ({"Accept": "application/json", "X-TFS-FedAuthRedirect": "Suppress"}, None, False),
        ({"Authorization": "Bearer x"}, None, True),
        ({"authorization": "Basic x"}, None, True),
        ({"Proxy-Authorization": "x"}, None, True),
        ({"Cookie": "a=b"}, None, True),
        ({"X-IDENTITY-HEADER": "x"}, None, True),
        ({"Metadata": "true"}, None, True),
        ({"secret": "x"}, None, True),
        ({}, {"client_secret": "x"}, True),
        ({}, "client_assertion=x", True),
        ({}, b"", False),
        ({}, {}, False),
    ],
)
def test_what_carries_a_credential(headers: dict[str, str], body: Any, carries: bool) -> None:
    assert carries_credential(headers, body) is carries


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/", True),  # the feed
        ("https://login.microsoftonline.com/t/oauth2/v2.0/token", True),  # the authority
        ("https://login.microsoftonline.us/t/oauth2/v2.0/token", True),  # Entra ID, another cloud
        ("https://vssps.dev.azure.com/contoso/_apis/Token/SessionTokens", True),
        ("https://contoso.vssps.visualstudio.com/_apis/tokens/pats", True),
        ("https://pkgs.dev.azure.com:8443/contoso/", False),  # another port is another origin
        ("http://pkgs.dev.azure.com/contoso/", False),  # plain http never
        ("http://login.microsoftonline.com/t/oauth2/v2.0/token", False),
        ("https://vssps.dev.azure.com:444/contoso/", False),
        ("https://evil.example/login.microsoftonline.com", False),
        ("https://login.microsoftonline.com.evil.example/t", False),
        ("https://evilvssps.visualstudio.com/", False),
        ("https://dev.azure.com/contoso", False),  # Azure DevOps, but neither feed nor token service
        ("https://127.0.0.1/", False),
    ],
)
def test_a_lookup_on_a_microsoft_feed_may_reach(url: str, allowed: bool) -> None:
    gate = lookup_egress(f"{FEED}/contoso/_packaging/f/pypi/simple/")
    assert gate.allows(url) is allowed
    if not allowed:
        with pytest.raises(EgressRefused, match=r"^refused to send a credential to [^ ]+: "):
            gate.check(url, {"Authorization": "Bearer t"})
    gate.check(url, {"Accept": "*/*"})  # nothing secret: the gate lets it go anywhere


def test_a_name_from_the_url_never_builds_an_allowed_host() -> None:
    """`{org}` in a configured token-service host is substituted only when the organization is a
    DNS label; a crafted name (as decoded from `%2F`, `%3A`, `%40`) adds nothing."""
    template = "https://{org}.tokens.example.com"
    assert lookup_egress(vssps=template).allows("https://contoso.tokens.example.com/x")
    for crafted in ("evil.example:443/", "evil.example#", "x@evil.example", "a.b", "-x", "x" * 64):
        gate = lookup_egress(org=crafted, vssps=template)
        assert gate.origins == lookup_egress(org=crafted).origins, crafted
    # In the path it cannot move the host.
    path_template = "https://tokens.example.com/{org}"
    assert lookup_egress(org="evil.example:1/", vssps=path_template).allows("https://tokens.example.com/")


def test_a_host_without_entra_gets_only_its_own_origin() -> None:
    gate = lookup_egress(
        "https://tfs.example.com:8080", entra=False, environ={"IDENTITY_ENDPOINT": "http://x"}
    )
    assert gate.allows("https://tfs.example.com:8080/tfs/_apis/connectionData")
    for url in ("https://login.microsoftonline.com/t", "https://vssps.dev.azure.com/o", "http://x/"):
        assert not gate.allows(url), url


def test_plain_http_is_for_static_credentials_its_section_allows() -> None:
    gate = lookup_egress("http://tfs.example.com:8080", entra=False, allow_http=True)
    url = "http://tfs.example.com:8080/tfs/c/_packaging/f/pypi/simple/"
    assert gate.allows(url, static=True)
    assert not gate.allows(url)  # a PAT we made, a session token, an Entra token: never
    assert not lookup_egress("http://tfs.example.com:8080", entra=False).allows(url, static=True)


def test_endpoints_named_by_the_environment() -> None:
    environ = {
        "IDENTITY_ENDPOINT": "http://127.0.0.1:41741/msi/token",
        "MSI_ENDPOINT": "http://localhost:50342/oauth2/token",
        "SYSTEM_OIDCREQUESTURI": "https://dev.azure.com/contoso/proj/_apis/oidctoken",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://plain.example/token",  # not https: not allowed
        "AZURE_AUTHORITY_HOST": "login.sovereign.example",
    }
    gate = lookup_egress(environ=environ)
    assert gate.allows("http://127.0.0.1:41741/msi/token?resource=x")
    assert gate.allows("http://localhost:50342/oauth2/token")
    assert gate.allows("https://dev.azure.com/contoso/proj/_apis/oidctoken")
    assert gate.allows("https://login.sovereign.example/t/oauth2/v2.0/token")
    assert not gate.allows("http://plain.example/token")
    assert not gate.allows("http://169.254.169.254/metadata/identity/oauth2/token")
    assert lookup_egress(allow_imds=True).allows("http://169.254.169.254/metadata/identity/oauth2/token")


def test_without_an_egress_no_credential_leaves() -> None:
    with pytest.raises(EgressRefused):
        egress.check(None, "https://login.microsoftonline.com/t", {}, {"client_secret": "s"})
    egress.check(None, "https://pkgs.dev.azure.com/contoso/", {"Accept": "*/*"})


# -- through Http, against local servers ---------------------------------------------------------


class Recorder:
    """A plain-HTTP server on 127.0.0.1 answering from `replies` (path -> (status, headers))."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.replies: dict[str, tuple[int, dict[str, str]]] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append((self.command, self.path, dict(self.headers.items()), body))
                status, headers = recorder.replies.get(self.path.split("?")[0], (200, {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    """An allowed server and an "attacker" on another port (another origin)."""
    allowed, attacker = Recorder(), Recorder()
    yield allowed, attacker
    allowed.close()
    attacker.close()


SECRETS = {
    "Authorization": "Bearer t",
    "Proxy-Authorization": "Basic p",
    "Cookie": "c=1",
    "X-IDENTITY-HEADER": "identity",
    "Metadata": "true",
    "secret": "sf",
}


@pytest.mark.parametrize("status", [307, 308])
def test_a_cross_origin_redirect_keeps_no_secret(servers: tuple[Recorder, Recorder], status: int) -> None:
    allowed, attacker = servers
    allowed.replies["/token"] = (status, {"Location": attacker.url + "/stolen"})
    http = Http(timeout=5, retries=0, egress=Egress.to(allowed.url))
    http.request(
        "POST", allowed.url + "/token", headers={**SECRETS, "X-Keep": "1"}, data={"client_secret": "s3cr3t"}
    )
    http.close()
    assert allowed.seen[0][3] == b"client_secret=s3cr3t"  # the allowed origin got it all
    method, path, headers, body = attacker.seen[0]
    assert (method, path, body) == ("POST", "/stolen", b"")
    assert not {name.lower() for name in headers} & {name.lower() for name in SECRETS}
    assert headers["X-Keep"] == "1"


def test_a_same_origin_redirect_keeps_body_and_headers(servers: tuple[Recorder, Recorder]) -> None:
    allowed, _ = servers
    allowed.replies["/a"] = (307, {"Location": "/b"})
    http = Http(timeout=5, retries=0, egress=Egress.to(allowed.url))
    http.request("POST", allowed.url + "/a", headers={"X-IDENTITY-HEADER": "i"}, data={"client_secret": "s"})
    http.close()
    _, path, headers, body = allowed.seen[1]
    assert (path, body, headers.get("X-IDENTITY-HEADER")) == ("/b", b"client_secret=s", "i")


def test_http_refuses_before_connecting(servers: tuple[Recorder, Recorder]) -> None:
    allowed, attacker = servers
    http = Http(timeout=5, retries=0, egress=Egress.to(allowed.url))
    with pytest.raises(EgressRefused, match=attacker.url.split("//")[1]):
        http.get(attacker.url + "/x", headers={"Authorization": "Bearer t"})
    with pytest.raises(EgressRefused):
        http.request("POST", attacker.url + "/x", data={"refresh_token": "r"})
    with pytest.raises(EgressRefused):  # a pooled client with no lookup's egress sends nothing secret
        Http(timeout=5, retries=0).get(allowed.url + "/x", headers={"Authorization": "Bearer t"})
    assert attacker.seen == [] and allowed.seen == []
    http.get(attacker.url + "/anonymous")  # nothing secret: allowed anywhere
    assert [s[1] for s in attacker.seen] == ["/anonymous"]
    http.close()


def test_bound_views_share_connections_but_not_origins(servers: tuple[Recorder, Recorder]) -> None:
    allowed, attacker = servers
    pooled = Http(timeout=5, retries=0)
    first, second = pooled.bound(Egress.to(allowed.url)), pooled.bound(Egress.to(attacker.url))
    first.get(allowed.url + "/1", headers={"Authorization": "Bearer a"})
    second.get(attacker.url + "/2", headers={"Authorization": "Bearer b"})
    with pytest.raises(EgressRefused):
        first.get(attacker.url + "/3", headers={"Authorization": "Bearer a"})
    assert first._get_session() is second._get_session() is pooled._get_session()
    assert pooled.egress is None
    pooled.close()


def test_suppress_goes_only_to_azure_devops(servers: tuple[Recorder, Recorder]) -> None:
    feed, identity = servers
    devops = frozenset({egress.key(feed.url)})
    gate = Egress(devops | {egress.key(identity.url)}, devops=devops)
    http = Http(timeout=5, retries=0, egress=gate)
    http.get(feed.url + "/feed", headers={"Authorization": "Basic x"})
    http.get(identity.url + "/msi/token", headers={"X-IDENTITY-HEADER": "i"})
    http.close()
    assert feed.seen[0][2].get(SUPPRESS_SIGN_IN[0]) == SUPPRESS_SIGN_IN[1]
    assert SUPPRESS_SIGN_IN[0] not in identity.seen[0][2]
    assert gate.is_devops("https://pkgs.dev.azure.com/x") and gate.is_devops(
        "https://o.vssps.visualstudio.com/"
    )
    assert not gate.is_devops("https://login.microsoftonline.com/t")


def test_the_session_given_to_azure_identity_is_gated(servers: tuple[Recorder, Recorder]) -> None:
    """requests follows this redirect itself (as msal does with a session it is given): the hop
    to the attacker still carries the body, so the gate refuses it before it is sent."""
    allowed, attacker = servers
    allowed.replies["/token"] = (307, {"Location": attacker.url + "/stolen"})
    session = gated_session(Egress.to(allowed.url))
    with contextlib.closing(session), pytest.raises(EgressRefused):
        session.post(allowed.url + "/token", data={"client_assertion": "a"}, timeout=5)
    assert len(allowed.seen) == 1 and attacker.seen == []
    with contextlib.closing(gated_session(None)) as closed, pytest.raises(EgressRefused):
        closed.get(allowed.url + "/x", headers={"Metadata": "true"}, timeout=5)


def test_a_cached_msal_application_sends_with_the_current_lookups_egress(
    fake_azure_env: Any, tmp_path: Any
) -> None:
    """msal applications live for the process (OIDC metadata is a request); the http_client
    inside is rebound to each lookup's egress, so one lookup's allowed origins never serve another."""
    from dataclasses import replace

    from keyrings.azure_artifacts.credentials import msal_user
    from keyrings.azure_artifacts.credentials.base import FlowOptions

    fake = fake_azure_env
    first = FlowOptions(
        org="contoso",
        tenant=fake.default_tenant,
        authority_host=fake.authority_host,
        timeout=5.0,
        state_dir=tmp_path,
        egress=Egress.to(fake.base_url),
    )
    app = msal_user.application(first)
    elsewhere = Egress.to("https://feeds.example.com")
    assert msal_user.application(replace(first, egress=elsewhere)) is app
    with pytest.raises(EgressRefused, match=r"refused to send a credential to 127\.0\.0\.1"):
        app.acquire_token_by_refresh_token("a-refresh-token", scopes=["x/.default"])
    assert fake.count("token") == 0
    msal_user.forget_sign_ins(tmp_path)
