"""Which section wins: qualifier weights decide, file order only breaks ties.

Every config here is written so that the answer would change if the weights were
ignored, changed by one, or if file order decided. Each case puts the section that
must LOSE later in the file (where a tie, or "file order only", would make it win),
so a scoring bug cannot hide behind a friendly section order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import pytest

from keyrings.azure_artifacts.config.files import host_rules, read_config
from keyrings.azure_artifacts.config.resolve import Resolution, env_options, resolve, validate
from keyrings.azure_artifacts.config.sections import QUALIFIER_WEIGHTS, Section, mismatch
from keyrings.azure_artifacts.urls import HostRule, parse_service

# A URL every qualifier below can match: host, org, project, feed and view are all present.
URL = "https://pkgs.dev.azure.com/contoso/web/_packaging/release@Prerelease/pypi/simple/"
QUALIFIER = {
    "host": 'host="pkgs.dev.azure.com"',
    "org": 'org="contoso"',
    "project": 'project="web"',
    "feed": 'feed="release"',
    "view": 'view="Prerelease"',
}


def section(*keys: str) -> str:
    return " ".join(["artifacts", *(QUALIFIER[key] for key in keys)])


def winner(tmp_path: Path, *sections: tuple[str, ...]) -> str:
    """The section `username` comes from, when each section sets username to its own name."""
    text = "".join(f"[{section(*keys)}]\nusername = {'+'.join(keys) or 'root'}\n\n" for keys in sections)
    path = tmp_path / "keyringrc.cfg"
    path.write_text(text, encoding="utf-8")
    ref = parse_service(URL)
    assert ref is not None
    resolution = resolve(validate(read_config(path)), ref, {})
    assert resolution.errors == ()
    assert all(report.applies for report in resolution.sections), resolution.sections
    assert {report.reason for report in resolution.sections} == {"all qualifiers match"}
    return str(resolution.settings.username)


# (first in file, second in file, expected winner). Outside the ties the loser is written last.
CASES = [
    # The most specific section first: "sort by file order only" would pick the last one.
    (("feed",), (), "feed"),
    (("org", "feed"), ("org",), "org+feed"),
    (("host",), (), "host"),  # a host section outweighs [artifacts] (host weight 1, not 0)
    # One more than the real weight would tie and hand the win to the later section.
    (("view", "host"), ("org",), "view+host"),  # org 2 < view+host 3
    (("org", "host"), ("view",), "org+host"),  # view 2 < org+host 3
    (("org",), ("host",), "org"),  # host 1 < org 2
    (("org", "view", "host"), ("project",), "org+view+host"),  # project 4 < 5
    (("project", "org", "view", "host"), ("feed",), "project+org+view+host"),  # feed 8 < 9
    # One less than the real weight would tie too.
    (("view",), ("host",), "view"),  # view 2 > host 1
    (("project",), ("org", "host"), "project"),  # project 4 > org+host 3
    (("feed",), ("project", "org", "host"), "feed"),  # feed 8 > project+org+host 7
    # A genuine tie (project 4 == org 2 + view 2): the section written later wins.
    (("project",), ("org", "view"), "org+view"),
    (("org", "view"), ("project",), "project"),
]


@pytest.mark.parametrize(("first", "second", "expected"), CASES, ids=lambda v: "+".join(v) or "root")
def test_most_specific_section_wins_whatever_the_file_order(
    tmp_path: Path, first: tuple[str, ...], second: tuple[str, ...], expected: str
) -> None:
    assert winner(tmp_path, first, second) == expected


@pytest.mark.parametrize(
    "order",
    [
        [("feed",), ("project",), ("org",), ("host",), ()],
        [(), ("host",), ("org",), ("project",), ("feed",)],
        [("org",), ("feed",), (), ("project",), ("host",)],
    ],
    ids=["most-specific-first", "least-specific-first", "shuffled"],
)
def test_each_option_comes_from_the_most_specific_section_that_sets_it(
    tmp_path: Path, order: list[tuple[str, ...]]
) -> None:
    """Options layer one by one: a less specific section still supplies what the others leave out."""
    options = {
        (): "auth = bearer\ntimeout = 7\nusername = root\ninteractive = never\npat_duration = 1d\n",
        ("host",): "auth = pat\ntimeout = 9\nusername = host\ninteractive = always\n",
        ("org",): "auth = session\ntimeout = 11\nusername = org\n",
        ("project",): "auth = bearer\ntimeout = 13\n",
        ("feed",): "auth = pat\n",
    }
    text = "".join(f"[{section(*keys)}]\n{options[keys]}\n" for keys in order)
    path = tmp_path / "keyringrc.cfg"
    path.write_text(text, encoding="utf-8")
    ref = parse_service(URL)
    assert ref is not None
    settings = resolve(validate(read_config(path)), ref, {}).settings
    assert (settings.auth, settings.sources["auth"]) == ("pat", section("feed"))
    assert (settings.timeout, settings.sources["timeout"]) == (13.0, section("project"))
    assert (settings.username, settings.sources["username"]) == ("org", section("org"))
    assert (settings.interactive, settings.sources["interactive"]) == ("always", section("host"))
    assert (settings.pat_duration, settings.sources["pat_duration"]) == (86400, "artifacts")
    assert (settings.session_duration, settings.sources["session_duration"]) == (4 * 3600, "default")


def test_reported_weights_are_the_documented_ones(tmp_path: Path) -> None:
    """`explain` shows each section's weight: feed 8, project 4, org 2, view 2, host 1, summed."""
    assert QUALIFIER_WEIGHTS == {"feed": 8, "project": 4, "org": 2, "view": 2, "host": 1}
    keys = ("host", "org", "project", "feed", "view")
    path = tmp_path / "keyringrc.cfg"
    path.write_text(f"[{section(*keys)}]\n[{section('org', 'view')}]\n[artifacts]\n", encoding="utf-8")
    ref = parse_service(URL)
    assert ref is not None
    weights = [report.weight for report in resolve(validate(read_config(path)), ref, {}).sections]
    assert weights == [17, 4, 0]


# --- why a section does not apply: the reason `explain` prints ----------------------------------

DEVOPS = "https://devops.example.com/contoso/_packaging/main/pypi/simple/"
DEVOPS_HTTP = "http://devops.example.com/contoso/_packaging/main/pypi/simple/"
DEVOPS_8443 = "https://devops.example.com:8443/contoso/_packaging/main/pypi/simple/"


@pytest.mark.parametrize(
    ("qualifiers", "url", "reason"),
    [
        ({"host": "pkgs.dev.azure.com"}, URL, None),
        ({"host": "PKGS.dev.azure.com"}, URL, None),
        ({"host": "pkgs.dev.azure.com:443"}, URL, None),  # no port in an https URL: 443
        ({"host": "pkgs.dev.azure.com:8443"}, URL, "port 443 is not 8443"),
        ({"host": "devops.example.com:80"}, DEVOPS_HTTP, None),  # no port in an http URL: 80
        ({"host": "devops.example.com:80"}, DEVOPS, "port 443 is not 80"),
        ({"host": "devops.example.com:443"}, DEVOPS_HTTP, "port 80 is not 443"),
        ({"host": "devops.example.com:9443"}, DEVOPS_8443, "port 8443 is not 9443"),
        ({"host": "devops.example.com:8443"}, DEVOPS_8443, None),
        ({"host": "other.example.com"}, DEVOPS_8443, "host devops.example.com:8443 is not other.example.com"),
        # A matching host does not end the check: the other qualifiers must match too.
        ({"host": "pkgs.dev.azure.com", "org": "fabrikam"}, URL, "org 'contoso' is not 'fabrikam'"),
        ({"org": "CONTOSO", "feed": "Release", "view": "prerelease"}, URL, None),
        ({"feed": "main"}, URL, "feed 'release' is not 'main'"),
        ({"project": "web"}, DEVOPS, "URL has no project"),
        ({"org": "contoso", "feed": "main"}, "https://pkgs.dev.azure.com/contoso/", "URL has no feed"),
    ],
)
def test_why_a_section_does_not_apply(qualifiers: dict[str, str], url: str, reason: Optional[str]) -> None:
    ref = parse_service(url, [HostRule("devops.example.com", allow_http=True)])
    assert ref is not None
    assert mismatch(Section("artifacts ...", qualifiers), ref) == reason


def test_a_section_with_bad_qualifiers_never_applies() -> None:
    ref = parse_service(URL)
    assert ref is not None
    assert (
        mismatch(Section("artifacts org=contoso", {}, valid=False), ref) == "invalid qualifiers (see errors)"
    )


# --- what the layering falls back to -------------------------------------------------------------

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def layered(tmp_path: Path, config: str, url: str, environ: Optional[dict[str, str]] = None) -> Resolution:
    path = tmp_path / "keyringrc.cfg"
    path.write_text(config, encoding="utf-8")
    raw = read_config(path)
    ref = parse_service(url, host_rules(raw))
    assert ref is not None
    resolution = resolve(validate(raw), ref, environ or {})
    assert resolution.errors == ()
    return resolution


@pytest.mark.parametrize(
    ("config", "url", "credential", "source"),
    [
        # A declared host with no Entra configured (Azure DevOps Server): a PAT, never an Entra token.
        ('[artifacts host="devops.example.com"]\n', DEVOPS, ("static",), "default"),
        (f'[artifacts host="devops.example.com"]\ntenant = {TENANT}\n', DEVOPS, ("auto",), "default"),
        (
            '[artifacts host="devops.example.com"]\nauthority_host = https://login.example.com\n',
            DEVOPS,
            ("auto",),
            "default",
        ),
        (
            '[artifacts host="devops.example.com"]\ncredential = device_code\n',
            DEVOPS,
            ("device_code",),
            'artifacts host="devops.example.com"',
        ),
        ("[artifacts]\n", URL, ("auto",), "default"),  # Microsoft's hosts always have Entra
    ],
)
def test_default_credential_of_a_host_without_entra_is_static(
    tmp_path: Path, config: str, url: str, credential: tuple[str, ...], source: str
) -> None:
    settings = layered(tmp_path, config, url).settings
    assert (settings.credential, settings.sources["credential"]) == (credential, source)


def test_path_prefix_and_token_service_default_to_the_urls_host_rule(tmp_path: Path) -> None:
    """Org B's URL matches the /tfs rule org A's section declares; no section for B sets a prefix."""
    config = '[artifacts host="tfs.example.com" org="A"]\npath_prefix = /tfs\n'
    settings = layered(
        tmp_path, config, "https://tfs.example.com/tfs/B/_packaging/main/pypi/simple/"
    ).settings
    assert (settings.path_prefix, settings.sources["path_prefix"]) == ("/tfs", "default")
    assert (settings.vssps_url, settings.sources["vssps_url"]) == ("https://tfs.example.com/tfs/B", "default")


def test_validated_options_are_the_ones_each_section_sets(tmp_path: Path) -> None:
    path = tmp_path / "keyringrc.cfg"
    path.write_text('[artifacts]\nauth = PAT\ntimeout = 7\n[artifacts org="contoso"]\n', encoding="utf-8")
    assert validate(read_config(path)).options == {
        "artifacts": {"auth": "pat", "timeout": 7.0},
        'artifacts org="contoso"': {},
    }


# --- compatibility variables: option defaults below every section ---------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "option", "expected"),
    [
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "true", "auth", "bearer"),
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", " false ", "auth", "pat"),
        ("AZURE_DEVOPS_PAT_DURATION", "1", "pat_duration", 86400),
        ("AZURE_DEVOPS_PAT_DURATION", "366", "pat_duration", 366 * 86400),
        ("AZURE_DEVOPS_PAT_SCOPE", "vso.packaging_write", "scopes", ("vso.packaging_write",)),
        ("ARTIFACTS_KEYRING_NONINTERACTIVE_MODE", "true", "interactive", "never"),
        # azure-identity reads a scheme-less authority host as https.
        (
            "AZURE_AUTHORITY_HOST",
            "login.microsoftonline.us",
            "authority_host",
            "https://login.microsoftonline.us",
        ),
        (
            "AZURE_AUTHORITY_HOST",
            "https://login.microsoftonline.us/",
            "authority_host",
            "https://login.microsoftonline.us",
        ),
    ],
)
def test_compatibility_variable_sets_its_option(
    variable: str, value: str, option: str, expected: Any
) -> None:
    assert env_options({variable: value}) == ({option: (expected, f"env:{variable}")}, [])


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ARTIFACTS_KEYRING_NONINTERACTIVE_MODE", "false"),  # not "never": the default decides
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "   "),
        ("AZURE_AUTHORITY_HOST", ""),
    ],
)
def test_compatibility_variable_that_says_nothing(variable: str, value: str) -> None:
    assert env_options({variable: value}) == ({}, [])


DAYS = "is not a whole number of days between 1 and 366"


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("AZURE_DEVOPS_PAT_DURATION", "0", f"'0' {DAYS}"),
        ("AZURE_DEVOPS_PAT_DURATION", "367", f"'367' {DAYS}"),
        ("AZURE_DEVOPS_PAT_DURATION", "ninety", f"'ninety' {DAYS}"),
        ("AZURE_DEVOPS_PAT_DURATION", "-1", f"'-1' {DAYS}"),
        ("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "maybe", "'maybe' is not true or false"),
        (
            "AZURE_AUTHORITY_HOST",
            "http://login.example.com",
            "'http://login.example.com' is not an https URL",
        ),
    ],
)
def test_bad_compatibility_variable_is_reported_not_guessed(variable: str, value: str, problem: str) -> None:
    assert env_options({variable: value}) == ({}, [f"env:{variable}: {problem}"])


def test_every_compatibility_variable_at_once() -> None:
    found, problems = env_options(
        {
            "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN": "1",
            "AZURE_DEVOPS_PAT_DURATION": "7",
            "AZURE_DEVOPS_PAT_SCOPE": "vso.packaging",
            "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE": "1",
            "AZURE_AUTHORITY_HOST": "login.chinacloudapi.cn",
        }
    )
    assert problems == []
    assert found == {
        "auth": ("bearer", "env:KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN"),
        "pat_duration": (7 * 86400, "env:AZURE_DEVOPS_PAT_DURATION"),
        "scopes": (("vso.packaging",), "env:AZURE_DEVOPS_PAT_SCOPE"),
        "interactive": ("never", "env:ARTIFACTS_KEYRING_NONINTERACTIVE_MODE"),
        "authority_host": ("https://login.chinacloudapi.cn", "env:AZURE_AUTHORITY_HOST"),
    }
