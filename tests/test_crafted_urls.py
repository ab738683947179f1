"""A token goes only where it belongs, end to end against the fake: crafted names in a feed URL,
hosts matched exactly, host sections that never get Entra, nothing secret over plain http, and
`logout URL` forgetting what that URL's lookups use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
import test_token_routing
from test_token_routing import World, fake_section

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.config import files

if TYPE_CHECKING:
    from conftest import CleanEnv, Logged

# The token-routing tests' fixture: two fakes and scripted listeners, trusted through one bundle.
world = test_token_routing.world


def _pinned(world: World) -> str:
    """Root settings that sign in at the fake with no discovery request (tenant pinned)."""
    return f"[artifacts]\ntenant = {world.fake.default_tenant}\nauthority_host = {world.fake.base_url}\n"


def _config_read(env: dict[str, str]) -> bool:
    return Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]) in files._memo


# -- a crafted organization never builds a host ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        # codeapp.ms carries the organization in its token service's host
        ("https://pkgs.codeapp.ms/{org}/_packaging/main/pypi/simple/", ""),
        (
            "https://pkgs.dev.azure.com/{org}/_packaging/main/pypi/simple/",
            "vssps_url = https://{org}.vssps.example.com\n",
        ),
        ("https://pkgs.dev.azure.com/contoso/{org}/_packaging/main/pypi/simple/", ""),
    ],
)
def test_a_crafted_name_never_reaches_the_attacker(world: World, url: str, extra: str) -> None:
    """An organization (or project) segment decoding to `127.0.0.1:PORT/` would make the token
    service `https://127.0.0.1:PORT/.vssps...`: the lookup answers None at once, reading nothing
    and sending nothing, to the attacker or anywhere else."""
    attacker = world.scripted(lambda method, path: (200, []))
    crafted = quote(f"{attacker.host}/", safe="")
    env = world.env(_pinned(world) + extra)
    assert service.lookup(url.format(org=crafted), None, environ=env) is None
    assert attacker.seen == []
    assert world.fake.count() == 0  # not even the sign-in
    assert not _config_read(env)


def test_a_crafted_collection_on_a_configured_host_reaches_nobody(world: World) -> None:
    attacker = world.scripted(lambda method, path: (200, []))
    fake = world.fake
    url = f"{fake.base_url}/{quote(attacker.host + '/', safe='')}/_packaging/main/pypi/simple/"
    env = world.env(fake_section(fake))
    assert service.lookup(url, None, environ=env) is None
    assert attacker.seen == [] and fake.count() == 0


def test_vssps_url_with_org_as_the_whole_host_is_a_config_error(world: World, logged: Logged) -> None:
    fake = world.fake
    env = world.env(fake_section(fake, "vssps_url = https://{org}\n"))
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    [line] = logged.warnings()
    assert "{org} may only be the first label of the host" in line
    assert fake.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://x.pkgs.dev.azure.com/proj/_packaging/feed/pypi/simple/",
        "https://a.contoso.pkgs.visualstudio.com/_packaging/feed/pypi/simple/",
        "https://pkgs.dev.azure.com/con_toso/_packaging/feed/pypi/simple/",
    ],
)
def test_look_alike_and_invalid_urls_send_nothing(
    clean_env: CleanEnv, outside_calls: list[str], url: str
) -> None:
    env = clean_env.for_lookup("[artifacts]\ncredential = environment\n")
    assert service.resolve(url, env) is None
    assert service.lookup(url, None, environ=env) is None
    assert outside_calls == []


# -- host sections: exact or explicit wildcard ------------------------------------------------


@pytest.mark.parametrize(
    ("host", "url", "ours"),
    [
        ("devops.example.com", "https://devops.example.com/c/_packaging/f/pypi/simple/", True),
        ("devops.example.com", "https://a.devops.example.com/c/_packaging/f/pypi/simple/", False),
        ("*.example.com", "https://devops.example.com/c/_packaging/f/pypi/simple/", True),
        ("*.example.com", "https://example.com/c/_packaging/f/pypi/simple/", False),
        ("*.example.com", "https://a.devops.example.com/c/_packaging/f/pypi/simple/", False),
        ("*.example.com:8443", "https://devops.example.com:8443/c/_packaging/f/pypi/simple/", True),
        ("*.example.com:8443", "https://devops.example.com/c/_packaging/f/pypi/simple/", False),
    ],
)
def test_host_section_matches_its_host_exactly_or_by_explicit_wildcard(
    clean_env: CleanEnv, host: str, url: str, ours: bool
) -> None:
    env = clean_env.for_lookup(f'[artifacts host="{host}"]\ntoken_env = MY_PAT\n', MY_PAT="static-pat")
    assert (service.resolve(url, env) is not None) is ours
    assert (service.lookup(url, None, environ=env) == ("VssSessionToken", "static-pat")) is ours


def test_a_host_qualifier_on_a_built_in_host_applies_to_that_host_only(clean_env: CleanEnv) -> None:
    env = clean_env(
        '[artifacts host="visualstudio.com"]\ntenant = contoso.onmicrosoft.com\n'
        '[artifacts host="*.pkgs.visualstudio.com"]\nscopes = vso.packaging_write\n'
    )
    resolution = service.resolve("https://contoso.pkgs.visualstudio.com/_packaging/f/pypi/simple/", env)
    assert resolution is not None
    assert resolution.settings.tenant is None  # host="visualstudio.com" is that host, no other
    assert resolution.settings.scopes == ("vso.packaging_write",)
    reasons = {r.name: r.reason for r in resolution.sections}
    assert reasons['artifacts host="visualstudio.com"'] == (
        "host contoso.pkgs.visualstudio.com is not visualstudio.com "
        '(subdomains match only when written host="*.visualstudio.com")'
    )


def test_check_says_which_host_form_is_in_use(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_cli

    path = cli_env.root / "hosts.cfg"
    path.write_text(
        '[artifacts host="tfs.example.com"]\ntoken_env = MY_PAT\n'
        '[artifacts host="*.corp.example.com"]\ntoken_env = MY_PAT\n',
        encoding="utf-8",
    )
    code, _out, err = run_cli(capsys, "check", "--config", str(path))
    assert code == 0, err
    assert 'host: matches tfs.example.com exactly (subdomains only with host="*.tfs.example.com")' in err
    assert "host: matches any one-label subdomain of corp.example.com (not corp.example.com itself)" in err


# -- a host section without its own tenant never gets Entra ---------------------------------------


@pytest.mark.parametrize(
    ("config", "env_extra"),
    [
        ("{root}", {}),
        ('[artifacts org="contoso"]\ntenant = {tenant}\nauthority_host = {authority}\n', {}),
        ("[artifacts]\ncredential = environment\n", {"AZURE_AUTHORITY_HOST": "{authority}"}),
        ("{root}credential = environment\n", {"AZURE_AUTHORITY_HOST": "{authority}"}),
    ],
    ids=["root-section", "org-section", "AZURE_AUTHORITY_HOST", "all-of-them"],
)
def test_host_section_without_its_own_tenant_never_gets_an_entra_token(
    world: World, config: str, env_extra: dict[str, str]
) -> None:
    """Whatever the root section, an org section or AZURE_AUTHORITY_HOST say, a host declared by
    a host section that sets neither tenant nor authority_host (Azure DevOps Server) is never
    signed in to: no token request, no session exchange, nothing sent to the feed."""
    fake = world.fake
    values = {"root": _pinned(world), "tenant": fake.default_tenant, "authority": fake.base_url}
    text = config.format(**values) + f'[artifacts host="{fake.host}"]\n'
    env = world.env(text)
    env.update({name: value.format(**values) for name, value in env_extra.items()})
    assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    assert fake.count() == 0
    # The same host section with its own authority_host signs in (the fake is the authority).
    env = world.env(text + f"authority_host = {fake.base_url}\n")
    found = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert found is not None and fake.lookup(found[1]) is not None


def test_explain_and_check_say_the_rule(
    world: World, cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import run_cli

    fake = world.fake
    path = cli_env.root / "rule.cfg"
    path.write_text(
        _pinned(world) + f'[artifacts host="{fake.host}"]\ntoken_env = MY_PAT\n', encoding="utf-8"
    )
    code, _out, err = run_cli(capsys, "check", "--config", str(path))
    assert code == 0
    assert (
        "no Entra token is ever sent there ([artifacts] sets tenant and authority_host, which does not count here)"
        in err
    )
    code, out, _err = run_cli(capsys, "explain", fake.feed_url("contoso", "main"), "--config", str(path))
    assert (
        "no host section for this host sets tenant or authority_host: no Entra token is sent, a PAT is used"
        in out
    )


# -- nothing but a configured static token over plain http ------------------------------------


def test_http_with_auth_session_fails_in_one_line_before_any_request(
    world: World, logged: Logged, outside_calls: list[str]
) -> None:
    fake = world.fake
    env = world.env(fake_section(fake, "allow_http = true\n"))
    https_url = fake.feed_url("contoso", "main")
    found = service.lookup(https_url, None, environ=env)  # a session token now cached for the org
    assert found is not None
    before, calls = fake.count(), len(outside_calls)
    assert service.lookup(https_url.replace("https://", "http://"), None, environ=env) is None
    assert fake.count() == before and outside_calls[calls:] == []
    [line] = logged.warnings()
    assert "is plain http: only a static token (token_env / token_file) is sent there" in line
    assert "\n" not in line


def test_http_hands_over_a_configured_static_token(world: World) -> None:
    fake = world.fake
    env = world.env(fake_section(fake, "allow_http = true\ncredential = static\ntoken_env = MY_PAT\n"))
    env["MY_PAT"] = "configured-pat"
    url = fake.feed_url("contoso", "main").replace("https://", "http://")
    assert service.lookup(url, None, environ=env) == ("VssSessionToken", "configured-pat")
    assert fake.count() == 0


# -- logout URL forgets what that URL's lookups use -------------------------------------------


def test_logout_url_forgets_an_org_wide_session_token_made_for_another_feed(world: World) -> None:
    fake = world.fake
    fake.add_feed("contoso", "other")
    env = world.env(fake_section(fake))
    first = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert first is not None
    # The other feed's lookups use that same org-wide secret ...
    assert service.lookup(fake.feed_url("contoso", "other"), None, environ=env) == first
    # ... so logging out of the other feed forgets it.
    assert service.forget(fake.feed_url("contoso", "other"), env) is True
    again = service.lookup(fake.feed_url("contoso", "main"), None, environ=env)
    assert again is not None and again != first


# -- explain, doctor and check say it -------------------------------------------------------------

CRAFTED = "https://pkgs.dev.azure.com/attacker.example%3A8443%2F/_packaging/main/pypi/simple/"
SAYS = "organization 'attacker.example:8443/' has '.': only letters, digits and hyphens are allowed"


def test_explain_says_which_name_is_invalid(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_cli

    code, out, _err = run_cli(capsys, "explain", CRAFTED)
    assert code == 0
    assert "not an Azure Artifacts feed URL" in out
    assert f"Problem   {SAYS}" in out


def test_doctor_says_which_name_is_invalid(cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from conftest import run_cli

    code, out, _err = run_cli(capsys, "doctor", CRAFTED, "--json")
    assert code == 1
    url = next(step for step in json.loads(out)["steps"] if step["name"] == "url")
    assert url["name"] == "url" and url["status"] == "failed"
    assert url["detail"].startswith(SAYS)


def test_check_warns_about_allow_http_on_an_entra_host(
    cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import run_cli

    path = cli_env.root / "http.cfg"
    path.write_text(
        '[artifacts host="devops.example.com"]\nauthority_host = https://login.microsoftonline.com\n'
        "allow_http = true\n",
        encoding="utf-8",
    )
    code, _out, err = run_cli(capsys, "check", "--config", str(path))
    assert code == 0
    assert "allow_http: over http only a static token (token_env / token_file) is sent" in err


@pytest.mark.parametrize(
    ("config", "entra"),
    [
        ('[artifacts host="h.example.com"]\n', False),
        ('[artifacts]\ntenant = contoso.com\n[artifacts host="h.example.com"]\n', False),
        (
            '[artifacts org="c"]\nauthority_host = https://login.microsoftonline.us\n[artifacts host="h.example.com"]\n',
            False,
        ),
        ('[artifacts host="h.example.com"]\ntenant = contoso.com\n', True),
        ('[artifacts host="*.example.com"]\nauthority_host = https://login.microsoftonline.us\n', True),
        # the host section opts in; a narrower section may still choose which tenant
        ('[artifacts host="h.example.com"]\ntenant = a.com\n[artifacts org="c"]\ntenant = b.com\n', True),
        # a host section for another host does not count
        ('[artifacts host="other.example.com"]\ntenant = a.com\n[artifacts host="h.example.com"]\n', False),
    ],
)
def test_only_a_host_section_opens_its_host_to_entra(clean_env: CleanEnv, config: str, entra: bool) -> None:
    from keyrings.azure_artifacts.config.settings import entra_less

    env = clean_env(config, AZURE_AUTHORITY_HOST="https://login.microsoftonline.com")
    resolution = service.resolve("https://h.example.com/c/_packaging/f/pypi/simple/", env)
    assert resolution is not None and not resolution.errors
    assert entra_less(resolution.ref, resolution.settings) is not entra
    assert (resolution.settings.credential == ("static",)) is not entra


def test_check_counts_a_wildcard_or_port_less_section_for_its_hosts(
    cli_env: CleanEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import run_cli

    path = cli_env.root / "overlap.cfg"
    path.write_text(
        '[artifacts host="*.example.com"]\ntenant = contoso.com\n'
        '[artifacts host="a.example.com"]\nscopes = vso.packaging_write\n'
        '[artifacts host="b.example.net"]\nauthority_host = https://login.microsoftonline.us\n'
        '[artifacts host="b.example.net:8443"]\npath_prefix = /tfs\n',
        encoding="utf-8",
    )
    code, _out, err = run_cli(capsys, "check", "--config", str(path))
    assert code == 0
    assert "no Entra token is ever sent" not in err, err
