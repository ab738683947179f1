"""Where tokens go, end to end: only to the host they belong to, never where a 401 or a redirect
points, never over http unless a host section allows it, and through the configured proxy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional

import pytest
from helpers import Answer, Scripted, World, fake_section

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts._log import fingerprint
from keyrings.azure_artifacts.testing import FakeAzure, devops

if TYPE_CHECKING:
    pass


def issued_by(fake: FakeAzure, found: Optional[tuple[str, str]]) -> bool:
    record = None if found is None else fake.lookup(found[1])
    return record is not None and not record.revoked


def fingerprints_sent_to(fake: FakeAzure) -> set[str]:
    return {r.secret_fingerprint for r in fake.requests if r.secret_fingerprint}


# -- one host's token stays with that host --------------------------------------------------------


def test_each_host_gets_its_own_token(two_fakes: World) -> None:
    fake, other = two_fakes.fake, two_fakes.other
    env = two_fakes.env(fake_section(fake) + fake_section(other))
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
    two_fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = two_fakes.fake
    evil = two_fakes.scripted(lambda method, path: (401, []))
    monkeypatch.setattr(devops, "challenge", _evil_challenge(evil.base_url))
    env = two_fakes.env(fake_section(fake))
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert evil.seen == []  # neither the Entra token nor anything else went there
    assert issued_by(fake, found)  # the token service of the configured host was used instead
    assert fake.count("session_token", auth_kind="entra") == 1


def test_challenge_pointing_at_a_foreign_authority_is_refused(
    two_fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default authority, a 401 naming another sign-in host is ignored: sign-in goes to
    login.microsoftonline.com (here: a refusing proxy on 127.0.0.1, so nothing leaves the machine)."""
    fake = two_fakes.fake
    evil = two_fakes.scripted(lambda method, path: (401, []))
    proxy = two_fakes.scripted(lambda method, path: (403, []), tls=False)
    monkeypatch.setattr(devops, "challenge", _evil_challenge(evil.base_url))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    # A host section signs in with Entra ID only when it names an authority (or a tenant).
    env = two_fakes.env(
        f'[artifacts host="{fake.host}"]\nauthority_host = https://login.microsoftonline.com\n'
    )
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert evil.seen == []
    connects = {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert connects and all(c.startswith("login.microsoftonline.com:") for c in connects), connects


# -- proxies ----------------------------------------------------------------------------------


def test_https_proxy_is_used_and_no_proxy_honoured(two_fakes: World, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = two_fakes.fake
    proxy = two_fakes.scripted(lambda method, path: (403, []), tls=False)
    env = two_fakes.env(fake_section(fake, "timeout = 2\n"))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert f"{fake.host}" in {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert fake.count() == 0  # everything went to the proxy, which refused

    proxy.seen.clear()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert issued_by(fake, service.lookup(fake.feed_url("contoso", "main"), None, environ=env))
    assert proxy.seen == []


# -- redirects --------------------------------------------------------------------------------


def _vssps_env(two_fakes: World, vssps: Scripted) -> dict[str, str]:
    fake = two_fakes.fake
    return two_fakes.env(
        fake_section(fake, f"tenant = {fake.default_tenant}\nvssps_url = {vssps.base_url}/{{org}}\n")
    )


def _handed_its_entra_token(fake: FakeAzure, found: Optional[tuple[str, str]]) -> bool:
    """No session token was issued: the service principal's refused exchange fell back to its
    Entra token (what Microsoft's provider hands over for service connections)."""
    issued = None if found is None else fake.lookup(found[1])
    return issued is not None and issued.kind == "access" and fake.issued("session") == []


def test_redirect_to_another_host_drops_the_authorization_header(two_fakes: World) -> None:
    fake = two_fakes.fake
    target = f"{fake.base_url}/contoso/_apis/Token/SessionTokens?api-version=5.0-preview.1"
    vssps = two_fakes.scripted(lambda method, path: (307, [("Location", target)]))
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=_vssps_env(two_fakes, vssps))
    assert _handed_its_entra_token(fake, found)
    assert [s.authorization is not None for s in vssps.seen] == [True]  # the configured host got it
    assert fake.count("session_token") == 1
    assert fake.count("session_token", auth_kind="anonymous") == 1  # the other host did not


def test_redirect_on_the_same_host_keeps_the_authorization_header(two_fakes: World) -> None:
    def script(method: str, path: str) -> Answer:
        if path.startswith("/moved"):
            return 401, []
        return 307, [("Location", "/moved" + path)]

    vssps = two_fakes.scripted(script)
    found = service.lookup(
        two_fakes.fake.feed_url("contoso", "main"), None, environ=_vssps_env(two_fakes, vssps)
    )
    assert _handed_its_entra_token(two_fakes.fake, found)
    assert [s.path.startswith("/moved") for s in vssps.seen] == [False, True]
    assert all(s.authorization and s.authorization.startswith("Bearer ") for s in vssps.seen)


def test_redirect_from_https_to_http_is_refused(two_fakes: World) -> None:
    plain = two_fakes.scripted(lambda method, path: (200, []), tls=False)
    vssps = two_fakes.scripted(lambda method, path: (302, [("Location", plain.base_url + path)]))
    assert (
        service.lookup(two_fakes.fake.feed_url("contoso", "main"), None, environ=_vssps_env(two_fakes, vssps))
        is None
    )
    assert len(vssps.seen) == 1
    assert plain.seen == []


# -- http ------------------------------------------------------------------------------------


def test_http_is_refused_unless_the_host_section_allows_it(two_fakes: World) -> None:
    fake = two_fakes.fake
    url = fake.feed_url("contoso", "main").replace("https://", "http://")
    env = two_fakes.env(fake_section(fake))
    assert service.lookup(url, None, environ=env) is None
    assert service.resolve(url, env) is None
    assert fake.count() == 0
    env = two_fakes.env(fake_section(fake, "allow_http = true\n"))
    resolution = service.resolve(url, env)
    assert resolution is not None and resolution.ref.scheme == "http"
    for known in (
        "http://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        "http://contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/",
    ):
        assert service.lookup(known, None, environ=env) is None


def test_challenge_pointing_at_another_configured_host_is_refused(
    two_fakes: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming a host in the config makes it trusted with its own feeds' secrets, not as the
    sign-in authority or token service of another host: that host would receive the client
    secret (or a refresh token) and the Entra token of this one."""
    fake, other = two_fakes.fake, two_fakes.other
    proxy = two_fakes.scripted(lambda method, path: (403, []), tls=False)
    monkeypatch.setattr(devops, "challenge", _evil_challenge(other.base_url))
    monkeypatch.setenv("HTTPS_PROXY", proxy.base_url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    entra = "authority_host = https://login.microsoftonline.com\n"
    env = two_fakes.env(f'[artifacts host="{fake.host}"]\n{entra}[artifacts host="{other.host}"]\n{entra}')
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert other.count() == 0  # neither the client secret nor an Entra token went there
    connects = {s.path for s in proxy.seen if s.method == "CONNECT"}
    assert connects and all(c.startswith("login.microsoftonline.com:") for c in connects), connects
