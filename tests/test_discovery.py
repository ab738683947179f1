"""Discovery: challenge parsing and host allow-listing (pure), the anonymous GET, the per-org cache."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from keyrings.azure_artifacts.discovery import (
    FIRST_PARTY_TENANT,
    MSA_TENANT,
    Challenge,
    DiscoveryCache,
    check_challenge,
    discover,
    is_entra_host,
    is_vssps_host,
    parse_challenge,
    sign_in_tenant,
)
from keyrings.azure_artifacts.http import Http

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
REAL_401 = [
    ("WWW-Authenticate", f"Bearer authorization_uri=https://login.microsoftonline.com/{TENANT}"),
    ("WWW-Authenticate", 'Basic realm="https://pkgsprodcus1.pkgs.visualstudio.com/"'),
    ("WWW-Authenticate", "TFS-Federated"),
    ("X-TFS-ProcessId", "2f0a7c9b-0000-0000-0000-000000000000"),
    ("X-VSS-ResourceTenant", TENANT),
    ("X-VSS-AuthorizationEndpoint", "https://vssps.dev.azure.com/contoso/"),
]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            REAL_401,
            Challenge(TENANT, "https://login.microsoftonline.com", "https://vssps.dev.azure.com/contoso"),
        ),
        # One combined header (how a proxy or requests' dict may present them).
        (
            {
                "www-authenticate": f'Basic realm="x", Bearer authorization_uri=https://login.microsoftonline.us/{TENANT}, TFS-Federated'
            },
            Challenge(TENANT, "https://login.microsoftonline.us", None),
        ),
        # Quoted, with other params, upper-case host.
        (
            [
                (
                    "WWW-Authenticate",
                    f'Bearer realm="", authorization_uri="https://LOGIN.windows.net/{TENANT}/", resource_id="x"',
                )
            ],
            Challenge(TENANT, "https://login.windows.net", None),
        ),
        # ResourceTenant wins over the URI's tenant; zero GUID skipped in a comma list.
        (
            [
                ("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/common"),
                ("X-VSS-ResourceTenant", f"00000000-0000-0000-0000-000000000000, {TENANT.upper()}"),
            ],
            Challenge(TENANT, "https://login.microsoftonline.com", None),
        ),
        # Zero GUID only: fall back to the URI's tenant.
        (
            [
                ("X-VSS-ResourceTenant", "00000000-0000-0000-0000-000000000000"),
                (
                    "WWW-Authenticate",
                    f"Bearer authorization_uri=https://login.microsoftonline.com/{MSA_TENANT}",
                ),
            ],
            Challenge(MSA_TENANT, "https://login.microsoftonline.com", None),
        ),
        # Not a parameter: a look-alike name must not match.
        ([("WWW-Authenticate", "Bearer xauthorization_uri=https://evil.io/t")], Challenge()),
        ([("X-VSS-ResourceTenant", "not-a-guid")], Challenge()),
        ([], Challenge()),
        ([("WWW-Authenticate", "Bearer authorization_uri=")], Challenge()),
        # Userinfo is dropped from what we keep.
        (
            [
                (
                    "WWW-Authenticate",
                    f"Bearer authorization_uri=https://u:p@login.microsoftonline.com/{TENANT}",
                ),
                ("X-VSS-AuthorizationEndpoint", "https://u@vssps.dev.azure.com/contoso"),
            ],
            Challenge(TENANT, "https://login.microsoftonline.com", "https://vssps.dev.azure.com/contoso"),
        ),
        # Azure DevOps Server style: https host with a port and a path.
        (
            [("X-VSS-AuthorizationEndpoint", "https://tfs.corp:8443/tfs/DefaultCollection/")],
            Challenge(None, None, "https://tfs.corp:8443/tfs/DefaultCollection"),
        ),
    ],
)
def test_parse_challenge(headers: object, expected: Challenge) -> None:
    assert parse_challenge(headers) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://login.microsoftonline.com", (), True),
        ("https://LOGIN.MicrosoftOnline.com:443", (), True),
        ("https://login.chinacloudapi.cn", (), True),
        ("https://login.partner.microsoftonline.cn", (), True),
        ("https://login.microsoftonline.com.evil.io", (), False),
        ("https://evil.io/login.microsoftonline.com", (), False),
        ("https://evillogin.microsoftonline.com", (), False),
        ("https://x.login.microsoftonline.com", (), False),
        ("http://login.microsoftonline.com", (), False),
        ("https://login.microsoftonline.com:8443", (), False),
        ("https://127.0.0.1:8443", ("https://127.0.0.1:8443",), True),
        ("https://127.0.0.1:8444", ("127.0.0.1:8443",), False),
        ("https://login.corp", ("login.corp",), True),
        ("https://login.corp:9443", ("login.corp",), True),
        ("https://xlogin.corp", ("login.corp",), False),
    ],
)
def test_is_entra_host(url: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert is_entra_host(url, allowed) is ok


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://vssps.dev.azure.com/contoso", (), True),
        ("https://app.vssps.dev.azure.com", (), True),
        ("https://contoso.vssps.visualstudio.com", (), True),
        ("https://vssps.codedev.ms/contoso", (), True),
        ("https://test.vssps.codeapp.ms", (), True),
        ("https://contoso.vssps.vsts.me", (), True),
        ("https://evilvssps.dev.azure.com/contoso", (), False),
        ("https://vssps.dev.azure.com.evil.io/contoso", (), False),
        ("https://evil.io/vssps.dev.azure.com", (), False),
        ("https://vssps.visualstudio.com.evil.io", (), False),
        ("https://contosovssps.visualstudio.com", (), False),
        ("https://vssps.codeapp.ms", (), False),
        ("http://vssps.dev.azure.com/contoso", (), False),
        ("https://tfs.corp:8443/tfs/c", ("tfs.corp:8443",), True),
        ("https://tfs.corp:9999/tfs/c", ("tfs.corp:8443",), False),
        ("https://tfs.corp.evil.io/tfs/c", ("tfs.corp",), False),
    ],
)
def test_is_vssps_host(url: str, allowed: tuple[str, ...], ok: bool) -> None:
    assert is_vssps_host(url, allowed) is ok


def test_check_challenge_drops_untrusted_parts_keeps_tenant() -> None:
    ch = Challenge(TENANT, "https://login.microsoftonline.com.evil.io", "https://evilvssps.dev.azure.com/c")
    assert check_challenge(ch, set(), set()) == Challenge(TENANT, None, None)
    good = Challenge(TENANT, "https://login.microsoftonline.com", "https://vssps.dev.azure.com/c")
    assert check_challenge(good, set(), set()) == good


def test_sign_in_tenant() -> None:
    assert sign_in_tenant(MSA_TENANT) == FIRST_PARTY_TENANT
    assert sign_in_tenant(MSA_TENANT.upper()) == FIRST_PARTY_TENANT
    assert sign_in_tenant(TENANT) == TENANT


def test_discovery_cache(tmp_path: Path) -> None:
    clock = [1000.0]
    cache = DiscoveryCache(tmp_path / "s", ttl=100, now=lambda: clock[0])
    ch = Challenge(TENANT, "https://login.microsoftonline.com", "https://vssps.dev.azure.com/c")
    assert cache.get("contoso") is None
    cache.put("Contoso", ch)
    cache.put("fabrikam", Challenge())
    assert cache.get("contoso") == ch
    assert DiscoveryCache(tmp_path / "s", ttl=100, now=lambda: 1050).get("CONTOSO") == ch
    clock[0] = 1101
    assert cache.get("contoso") is None
    cache.put("other", Challenge(TENANT))
    assert set(__import__("json").loads((tmp_path / "s" / "discovery.json").read_text())) == {"other"}
    if os.name == "posix":
        assert stat.S_IMODE((tmp_path / "s" / "discovery.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("content", [b"", b"[1]", b'{"contoso": 5}', b'{"contoso": {"at": "x"}}'])
def test_discovery_cache_tolerates_garbage(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "discovery.json").write_bytes(content)
    os.chmod(tmp_path / "discovery.json", 0o600)
    cache = DiscoveryCache(tmp_path, now=lambda: 1000)
    assert cache.get("contoso") is None
    cache.put("contoso", Challenge(TENANT))
    assert cache.get("contoso") == Challenge(TENANT)


# --- against the fake Azure DevOps ------------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    testing = pytest.importorskip("keyrings.azure_artifacts.testing")
    with testing.FakeAzure() as f:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", f.ca_path)
        f.add_feed("contoso", "main")
        yield f


def test_discover_against_fake(fake: object) -> None:
    f = fake
    http = Http(timeout=5, retries=1, backoff=0.01)
    url = f.feed_url("contoso", "main")  # type: ignore[attr-defined]
    ch = discover(http, url, {f.authority_host}, {f.host})  # type: ignore[attr-defined]
    org = f.find_org("contoso")  # type: ignore[attr-defined]
    assert ch == Challenge(org.tenant, f.base_url, f"{f.base_url}/contoso")  # type: ignore[attr-defined]
    assert f.count("simple", auth_kind="anonymous") == 1  # type: ignore[attr-defined]
    # Not configured: the fake's own hosts are not trusted, only the tenant survives.
    assert discover(http, url) == Challenge(org.tenant, None, None)
    http.close()


def test_discover_untrusted_tls_fails_cleanly(fake: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    from keyrings.azure_artifacts.errors import ServiceError

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    http = Http(timeout=5, retries=0)
    with pytest.raises(ServiceError, match="certificate not trusted by REQUESTS_CA_BUNDLE"):
        discover(http, fake.feed_url("contoso", "main"))  # type: ignore[attr-defined]
    http.close()
