"""Which service strings are ours: a table of real-shaped URLs plus property tests."""

from __future__ import annotations

from typing import Optional

import pytest
import urllib3.util
from hypothesis import given
from hypothesis import strategies as st

from keyrings.azure_artifacts.urls import (
    HostRule,
    could_be_configured,
    host_matches,
    parse_host,
    parse_service,
)

Expected = Optional[tuple[str, Optional[str], Optional[str], Optional[str], bool]]

ORG_GUID = "0b4e9a0c-7d2f-4c1a-9e1b-2a3c4d5e6f70"
FEED_GUID = "5c6d7e8f-1a2b-4c3d-8e9f-0a1b2c3d4e5f"

# (service, (org, project, feed, view, upload) or None)
CASES: list[tuple[str, Expected]] = [
    # pkgs.dev.azure.com, org-scoped and project-scoped feeds
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/web/_packaging/main/pypi/simple/",
        ("contoso", "web", "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/web/_packaging/main/pypi/simple/requests/",
        ("contoso", "web", "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main@Release/pypi/simple/",
        ("contoso", None, "main", "Release", False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/web/_packaging/main@Local/pypi/simple/",
        ("contoso", "web", "main", "Local", False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/My%20Project/_packaging/main/pypi/simple/",
        ("contoso", "My Project", "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/my%2Dfeed/pypi/simple/",
        ("contoso", None, "my-feed", None, False),
    ),
    # GUID download URLs are kept as given
    (
        f"https://pkgs.dev.azure.com/contoso/{ORG_GUID}/_packaging/{FEED_GUID}/pypi/download/pkg/1.0/pkg-1.0.whl",
        ("contoso", ORG_GUID, FEED_GUID, None, False),
    ),
    (
        f"https://pkgs.dev.azure.com/contoso/_packaging/{FEED_GUID}/pypi/download/pkg/1.0/pkg-1.0.tar.gz",
        ("contoso", None, FEED_GUID, None, False),
    ),
    # upload URLs
    ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/upload", ("contoso", None, "main", None, True)),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/upload/",
        ("contoso", None, "main", None, True),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/web/_packaging/main/pypi/upload/",
        ("contoso", "web", "main", None, True),
    ),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main/upload", ("contoso", None, "main", None, True)),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/upload/",
        ("contoso", None, "main", None, False),
    ),
    # org and project URLs without a feed
    ("https://pkgs.dev.azure.com/contoso", ("contoso", None, None, None, False)),
    ("https://pkgs.dev.azure.com/contoso/", ("contoso", None, None, None, False)),
    ("https://pkgs.dev.azure.com/contoso/web/", ("contoso", "web", None, None, False)),
    # {org}.pkgs.visualstudio.com
    (
        "https://contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://contoso.pkgs.visualstudio.com/web/_packaging/main/pypi/simple/",
        ("contoso", "web", "main", None, False),
    ),
    ("https://contoso.pkgs.visualstudio.com", ("contoso", None, None, None, False)),
    ("contoso.pkgs.visualstudio.com", ("contoso", None, None, None, False)),
    ("https://pkgs.visualstudio.com/_packaging/main/pypi/simple/", None),
    # other Microsoft hosts
    ("https://pkgs.codedev.ms/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    (
        "https://pkgs.codeapp.ms/contoso/web/_packaging/main/pypi/simple/",
        ("contoso", "web", "main", None, False),
    ),
    ("https://contoso.pkgs.vsts.me/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    # userinfo, scheme-less (uv), explicit port, upper case
    (
        "https://user:pw@pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    (
        "https://pkgs.dev.azure.com:443/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://PKGS.DEV.AZURE.COM/Contoso/_packaging/Main/pypi/simple/",
        ("Contoso", None, "Main", None, False),
    ),
    (
        "HTTPS://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com./contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/?x=1#y",
        ("contoso", None, "main", None, False),
    ),
    # deeper paths without a feed name the organization only; `_` segments are never a project
    ("https://pkgs.dev.azure.com/contoso/web/more", ("contoso", None, None, None, False)),
    ("https://pkgs.dev.azure.com/contoso/_apis", ("contoso", None, None, None, False)),
    ("https://pkgs.dev.azure.com/contoso/_apis/_packaging/main/pypi/simple/", None),
    # the feed is the segment right after _packaging, whatever (if anything) follows it
    ("https://pkgs.dev.azure.com/contoso/_packaging/main", ("contoso", None, "main", None, False)),
    ("https://pkgs.dev.azure.com/contoso/web/_packaging/main", ("contoso", "web", "main", None, False)),
    # netloc-only and other shapes that name no org / no feed
    ("pkgs.dev.azure.com", None),
    ("https://pkgs.dev.azure.com", None),
    ("https://pkgs.dev.azure.com/", None),
    ("https://pkgs.dev.azure.com/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/a/b/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/@Release/pypi/simple/", None),
    # only https for the Microsoft hosts
    ("http://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("ftp://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    # look-alikes
    ("https://pkgs.dev.azure.com.evil.io/contoso/_packaging/main/pypi/simple/", None),
    ("https://evilpkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://evil.io/pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com@evil.io/contoso/_packaging/main/pypi/simple/", None),
    ("https://evil.io\\@pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://evil.io?@pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://evil.io#@pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://contoso.pkgs.visualstudio.com.evil.io/_packaging/main/pypi/simple/", None),
    ("https://contosopkgs.visualstudio.com/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com:8443x/contoso/_packaging/main/pypi/simple/", None),
    # a built-in host on another port is another server (only 443, written or not, is ours)
    ("https://pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", None),
    ("pkgs.dev.azure.com:8443/contoso/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com:80/contoso/_packaging/main/pypi/simple/", None),
    ("https://contoso.pkgs.visualstudio.com:8443/_packaging/main/pypi/simple/", None),
    (
        "https://contoso.pkgs.visualstudio.com:443/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("https://pypi.org/simple/", None),
    # org-in-path hosts match exactly: a subdomain's first segment is not an organization
    ("https://x.pkgs.dev.azure.com/proj/_packaging/feed/pypi/simple/", None),
    ("https://x.pkgs.codedev.ms/proj/_packaging/feed/pypi/simple/", None),
    ("https://x.pkgs.codeapp.ms/proj/_packaging/feed/pypi/simple/", None),
    # org-in-host hosts: exactly one label in front
    ("https://a.contoso.pkgs.visualstudio.com/_packaging/main/pypi/simple/", None),
    ("https://a.contoso.pkgs.vsts.me/_packaging/main/pypi/simple/", None),
    # names that break Azure DevOps' naming rules: not ours, whatever they decode to
    ("https://pkgs.codeapp.ms/attacker.example%3A8443%2F/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/attacker.example%3A8443%2F/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/evil.io%2Fx/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/con%40toso/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso%23/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso%3F/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso%2525/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso%0A/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/-contoso/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso-/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/con_toso/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/" + "a" * 51 + "/_packaging/main/pypi/simple/", None),
    (
        "https://pkgs.dev.azure.com/" + "a" * 50 + "/_packaging/main/pypi/simple/",
        ("a" * 50, None, "main", None, False),
    ),
    ("https://pkgs.dev.azure.com/b%C3%BCro/_packaging/main/pypi/simple/", None),
    ("https://con_toso.pkgs.visualstudio.com/_packaging/main/pypi/simple/", None),
    ("https://contoso-.pkgs.visualstudio.com/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/web%3A1/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/.web/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/" + "p" * 65 + "/_packaging/main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/ma%20in/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main%3A/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/.main/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main./pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main@Re%2Flease/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main@a@b/pypi/simple/", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/" + "f" * 65 + "/pypi/simple/", None),
    # names the rules allow
    ("https://pkgs.dev.azure.com/a/_packaging/f/pypi/simple/", ("a", None, "f", None, False)),
    (
        "https://pkgs.dev.azure.com/contoso/Web%20Team%20(EU)/_packaging/my_feed.v2/pypi/simple/",
        ("contoso", "Web Team (EU)", "my_feed.v2", None, False),
    ),
    (
        "https://pkgs.dev.azure.com/contoso/Caf%C3%A9/_packaging/main/pypi/simple/",
        ("contoso", "Café", "main", None, False),
    ),
    # non-URL keys
    ("poetry-repository-x", None),
    ("python-poetry-check", None),
    ("", None),
    ("   ", None),
    ("\t\n", None),
    ("https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/ x", None),
]


@pytest.mark.parametrize(("service", "expected"), CASES, ids=[repr(c[0])[:70] for c in CASES])
def test_url_table(service: str, expected: Expected) -> None:
    ref = parse_service(service)
    if expected is None:
        assert ref is None
        return
    assert ref is not None
    assert (ref.org, ref.project, ref.feed, ref.view, ref.upload) == expected
    assert ref.service == service


def test_explicit_default_port_is_not_shown_in_netloc() -> None:
    ref = parse_service("https://PKGS.dev.azure.com:443/contoso/_packaging/main/pypi/simple/")
    assert ref is not None
    assert (ref.host, ref.port, ref.netloc) == ("pkgs.dev.azure.com", 443, "pkgs.dev.azure.com")


@pytest.mark.parametrize(
    ("service", "vssps"),
    [
        (
            "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/",
            "https://vssps.dev.azure.com/contoso",
        ),
        (
            "https://contoso.pkgs.visualstudio.com/_packaging/f/pypi/simple/",
            "https://contoso.vssps.visualstudio.com",
        ),
        ("https://pkgs.codedev.ms/contoso/_packaging/f/pypi/simple/", "https://vssps.codedev.ms/contoso"),
        ("https://pkgs.codeapp.ms/contoso/_packaging/f/pypi/simple/", "https://contoso.vssps.codeapp.ms"),
        ("https://contoso.pkgs.vsts.me/_packaging/f/pypi/simple/", "https://contoso.vssps.vsts.me"),
    ],
)
def test_each_microsoft_host_has_its_token_service(service: str, vssps: str) -> None:
    ref = parse_service(service)
    assert ref is not None
    assert ref.default_vssps_url() == vssps


@pytest.mark.parametrize(
    ("service", "feed_url"),
    [
        (
            "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/requests/",
            "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        ),
        (
            "https://pkgs.dev.azure.com/contoso/web/_packaging/main@Release/pypi/upload/",
            "https://pkgs.dev.azure.com/contoso/web/_packaging/main@Release/pypi/simple/",
        ),
        ("https://pkgs.dev.azure.com/contoso/web/", "https://pkgs.dev.azure.com/contoso/web/"),
        ("https://pkgs.dev.azure.com/contoso", "https://pkgs.dev.azure.com/contoso/"),
        (
            "https://contoso.pkgs.visualstudio.com/web/_packaging/main/pypi/simple/",
            "https://contoso.pkgs.visualstudio.com/web/_packaging/main/pypi/simple/",
        ),
        ("https://contoso.pkgs.visualstudio.com/", "https://contoso.pkgs.visualstudio.com/"),
    ],
)
def test_feed_url_is_the_index_the_url_belongs_to(service: str, feed_url: str) -> None:
    """The URL of the anonymous discovery request: project, feed and view kept, the rest dropped."""
    ref = parse_service(service)
    assert ref is not None
    assert ref.feed_url() == feed_url


@pytest.mark.parametrize("service", [None, 42, b"https://pkgs.dev.azure.com/contoso/_packaging/f/"])
def test_non_strings_are_not_ours(service: object) -> None:
    assert parse_service(service) is None


# --- hosts declared by `host` sections -------------------------------------------------------

TFS = HostRule(host="tfs.example.com", path_prefix="/tfs")
PORTED = HostRule(host="devops.example.com", port=8443)
ANY_PORT = HostRule(host="feeds.example.com")
LOCAL_HTTP = HostRule(host="127.0.0.1", allow_http=True)
SINGLE_LABEL = HostRule(host="tfsserver", port=8080, allow_http=True, path_prefix="/tfs")
# A port written as the scheme's default: a URL without a port means that default.
HTTPS_443 = HostRule(host="secure.example.com", port=443, allow_http=True)
HTTP_80 = HostRule(host="plain.example.com", port=80, allow_http=True)
WILDCARD = HostRule(host="*.wild.example.com")
RULES = [TFS, PORTED, ANY_PORT, LOCAL_HTTP, SINGLE_LABEL, HTTPS_443, HTTP_80, WILDCARD]

RULE_CASES: list[tuple[str, Expected]] = [
    (
        "https://tfs.example.com/tfs/DefaultCollection/_packaging/main/pypi/simple/",
        ("DefaultCollection", None, "main", None, False),
    ),
    (
        "https://tfs.example.com/TFS/DefaultCollection/Web/_packaging/main@Release/pypi/upload/",
        ("DefaultCollection", "Web", "main", "Release", True),
    ),
    ("https://tfs.example.com/DefaultCollection/_packaging/main/pypi/simple/", None),  # prefix missing
    ("http://tfs.example.com/tfs/DefaultCollection/_packaging/main/pypi/simple/", None),  # no allow_http
    (
        "https://devops.example.com:8443/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("https://devops.example.com/contoso/_packaging/main/pypi/simple/", None),  # 443 is not 8443
    ("https://devops.example.com:9443/contoso/_packaging/main/pypi/simple/", None),
    (
        "https://feeds.example.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    (
        "https://feeds.example.com:7000/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("https://a.feeds.example.com/contoso/_packaging/main/pypi/simple/", None),  # exact: no subdomains
    (
        "https://a.wild.example.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("https://wild.example.com/contoso/_packaging/main/pypi/simple/", None),  # `*.` needs a label
    ("https://a.b.wild.example.com/contoso/_packaging/main/pypi/simple/", None),  # one label only
    ("https://evilwild.example.com/contoso/_packaging/main/pypi/simple/", None),
    # a collection name may hold spaces, never what would change the request
    (
        "https://tfs.example.com/tfs/Default%20Collection/_packaging/main/pypi/simple/",
        ("Default Collection", None, "main", None, False),
    ),
    ("https://tfs.example.com/tfs/evil.io%3A443%2F/_packaging/main/pypi/simple/", None),
    ("https://tfs.example.com/tfs/_DefaultCollection/_packaging/main/pypi/simple/", None),
    ("https://evilfeeds.example.com/contoso/_packaging/main/pypi/simple/", None),
    ("https://feeds.example.com.evil.io/contoso/_packaging/main/pypi/simple/", None),
    ("http://127.0.0.1:5000/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    ("https://127.0.0.1:5000/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    (
        "http://tfsserver:8080/tfs/DefaultCollection/_packaging/main/pypi/simple/",
        ("DefaultCollection", None, "main", None, False),
    ),
    ("http://tfsserver/tfs/DefaultCollection/_packaging/main/pypi/simple/", None),  # port 80 is not 8080
    ("feeds.example.com/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    (
        "https://secure.example.com/contoso/_packaging/main/pypi/simple/",
        ("contoso", None, "main", None, False),
    ),
    ("http://secure.example.com/contoso/_packaging/main/pypi/simple/", None),  # http means 80, not 443
    ("http://plain.example.com/contoso/_packaging/main/pypi/simple/", ("contoso", None, "main", None, False)),
    ("https://plain.example.com/contoso/_packaging/main/pypi/simple/", None),  # https means 443, not 80
]


@pytest.mark.parametrize(("service", "expected"), RULE_CASES, ids=[c[0][:70] for c in RULE_CASES])
def test_configured_hosts(service: str, expected: Expected) -> None:
    ref = parse_service(service, RULES)
    if expected is None:
        assert ref is None
        return
    assert ref is not None
    assert ref.kind == "configured"
    assert (ref.org, ref.project, ref.feed, ref.view, ref.upload) == expected
    assert ref.service == service


def test_configured_host_is_not_ours_without_its_rule() -> None:
    assert parse_service("https://feeds.example.com/contoso/_packaging/main/pypi/simple/") is None


def test_configured_host_keeps_prefix_for_vssps() -> None:
    ref = parse_service("https://tfs.example.com/tfs/DefaultCollection/_packaging/main/pypi/simple/", RULES)
    assert ref is not None
    assert ref.path_prefix == "/tfs"
    assert ref.default_vssps_url() == "https://tfs.example.com/tfs/DefaultCollection"
    assert ref.feed_url() == "https://tfs.example.com/tfs/DefaultCollection/_packaging/main/pypi/simple/"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("devops.example.com", ("devops.example.com", None)),
        ("DevOps.Example.com:8443", ("devops.example.com", 8443)),
        ("[::1]:8443", ("::1", 8443)),
        ("[::1]", ("::1", None)),
    ],
)
def test_parse_host(value: str, expected: tuple[str, Optional[int]]) -> None:
    assert parse_host(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("host:1", ("host", 1)), ("host:65535", ("host", 65535)), ("[::1]:1", ("::1", 1))],
)
def test_parse_host_takes_every_port_from_1_to_65535(value: str, expected: tuple[str, Optional[int]]) -> None:
    assert parse_host(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("host:", "bad port"),
        ("host:x", "bad port"),
        ("host:0", "port out of range"),
        ("host:65536", "port out of range"),
        ("host:70000", "port out of range"),
        ("[::1", "unclosed '[' in host"),
        ("[::1]x", "bad port"),
        ("[::1]:99999", "port out of range"),
        ("[::1]:0", "port out of range"),
        ("[::g]", "bad IPv6 address"),
        ("a:b:c", "bad port"),
        ("ev\\il.io", "bad character in host name"),
    ],
)
def test_parse_host_rejects(value: str, message: str) -> None:
    """The reason is part of the config error a user reads (`'host:0' is not a host name (...)`)."""
    with pytest.raises(ValueError) as info:
        parse_host(value)
    assert str(info.value) == message


def test_host_matches_exactly() -> None:
    assert host_matches("pkgs.dev.azure.com", "pkgs.dev.azure.com")
    assert host_matches("PKGS.dev.azure.com.", "pkgs.dev.azure.com")
    assert not host_matches("x.pkgs.dev.azure.com", "pkgs.dev.azure.com")
    assert not host_matches("evilpkgs.dev.azure.com", "pkgs.dev.azure.com")
    assert not host_matches("pkgs.dev.azure.com.evil.io", "pkgs.dev.azure.com")
    assert not host_matches("anything", "")


# --- properties ------------------------------------------------------------------------------

AZURE_SUFFIXES = (
    "pkgs.dev.azure.com",
    "pkgs.codedev.ms",
    "pkgs.codeapp.ms",
    "pkgs.visualstudio.com",
    "pkgs.vsts.me",
)
label = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)
adversarial_host = st.one_of(
    st.builds(
        lambda s, x: s + x,
        st.sampled_from(AZURE_SUFFIXES),
        st.sampled_from([".evil.io", "-evil.io", ".", "x"]),
    ),
    st.builds(lambda x, s: x + s, label, st.sampled_from(AZURE_SUFFIXES)),
    st.builds(lambda s: s.replace(".", "-"), st.sampled_from(AZURE_SUFFIXES)),
    st.builds(lambda a, b: f"{a}.{b}", label, label),
    st.builds(lambda s, x: f"{s}@{x}", st.sampled_from(AZURE_SUFFIXES), label),
)
path = st.lists(
    st.one_of(
        label, st.sampled_from(["_packaging", "pypi", "simple", "upload", "pkgs.dev.azure.com", "@", "%2F"])
    ),
    max_size=6,
).map(lambda parts: "/" + "/".join(parts))
scheme = st.sampled_from(["https://", "http://", "", "https://user:pw@", "https://pkgs.dev.azure.com@"])


def _is_azure_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in AZURE_SUFFIXES[:3]:
        return True
    return any(host.endswith("." + s) and "." not in host[: -len(s) - 1] for s in AZURE_SUFFIXES[3:])


@given(scheme=scheme, host=adversarial_host, path=path)
def test_foreign_hosts_are_never_ours(scheme: str, host: str, path: str) -> None:
    service = scheme + host + path
    ref = parse_service(service)
    real_host = urllib3.util.parse_url(service if "://" in service else "https://" + service).host
    if not _is_azure_host(real_host or ""):
        assert ref is None, service


@given(st.text(max_size=200))
def test_parse_service_never_raises(text: str) -> None:
    """Any text: a FeedRef or None, never an exception (the backend is asked about every URL)."""
    for ref in (parse_service(text), parse_service(text, RULES)):
        assert ref is None or (ref.scheme in ("https", "http") and ref.org and ref.host)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=120))
def test_ours_only_where_urllib3_sends_it(text: str) -> None:
    """Whatever we accept, the HTTP client pip and twine use must send to that same host."""
    for candidate in (text, "https://" + text, "https://pkgs.dev.azure.com/" + text):
        ref = parse_service(candidate)
        if ref is None:
            continue
        with_scheme = candidate if "://" in candidate else "https://" + candidate
        real = urllib3.util.parse_url(with_scheme)
        assert (real.host or "").lower().rstrip(".") == ref.host, candidate
        assert _is_azure_host(ref.host)


@pytest.mark.parametrize(
    ("host", "pattern", "expected"),
    [
        ("example.com", "example.com", True),
        ("EXAMPLE.com.", "example.COM", True),  # case and a trailing root dot do not matter
        ("example.com", "example.com.", True),
        ("feeds.example.com", "example.com.", False),  # subdomains only when written *.
        ("feeds.example.com", "*.example.com", True),
        ("FEEDS.example.com.", "*.Example.com", True),
        ("example.com", "*.example.com", False),
        ("a.feeds.example.com", "*.example.com", False),  # one label, like a TLS wildcard
        ("evilexample.com", "*.example.com", False),
        ("*.example.com", "*.example.com", False),
        ("a.example.com", ".example.com", False),  # a leading dot is not a wildcard
        ("evilexample.com", "example.com", False),
        ("example.com.evil.io", "example.com", False),
        ("example.com", "", False),
        ("example.com", ".", False),
        ("a.com", "*.", False),
    ],
)
def test_host_matches_exactly_or_an_explicit_wildcard(host: str, pattern: str, expected: bool) -> None:
    assert host_matches(host, pattern) is expected


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("https://devops.example.com/org/_packaging/feed/pypi/simple/", True),
        ("devops.example.com/org/_packaging/feed/pypi/simple/", True),
        ("poetry-repository-x", False),
        ("", False),
        (None, False),
        (b"https://devops.example.com/org/", False),
    ],
)
def test_could_be_configured(service: object, expected: bool) -> None:
    assert could_be_configured(service) is expected


# --- URLs built from names -------------------------------------------------------------------


def test_urls_built_from_names_percent_encode_them() -> None:
    ref = parse_service(
        "https://pkgs.dev.azure.com/contoso/My%20Project%20(EU)/_packaging/main@Release/pypi/simple/"
    )
    assert ref is not None and ref.project == "My Project (EU)"
    assert (
        ref.feed_url()
        == "https://pkgs.dev.azure.com/contoso/My%20Project%20%28EU%29/_packaging/main@Release/pypi/simple/"
    )
    tfs = parse_service(
        "https://tfs.example.com/tfs/Default%20Collection/_packaging/main/pypi/simple/", RULES
    )
    assert tfs is not None
    assert tfs.default_vssps_url() == "https://tfs.example.com/tfs/Default%20Collection"
    assert tfs.org_url() == "https://tfs.example.com/tfs/Default%20Collection"


def test_a_name_never_becomes_part_of_a_host() -> None:
    """A FeedRef made by hand (not by parse_service) with a crafted organization: the token
    service URL is refused rather than pointed at the crafted host."""
    from keyrings.azure_artifacts.urls import FeedRef

    for kind in ("codeapp.ms", "visualstudio.com", "vsts.me"):
        ref = FeedRef("s", "https", "pkgs.codeapp.ms", None, "attacker.example:8443/", kind=kind)
        with pytest.raises(ValueError, match="cannot be part of a host name"):
            ref.default_vssps_url()
    ref = FeedRef("s", "https", "pkgs.dev.azure.com", None, "attacker.example:8443/")
    assert ref.default_vssps_url() == "https://vssps.dev.azure.com/attacker.example%3A8443%2F"


@pytest.mark.parametrize(
    ("template", "org", "expected"),
    [
        ("https://vssps.example.com", "Contoso", "https://vssps.example.com"),
        (
            "https://vssps.example.com/{org}",
            "Default Collection",
            "https://vssps.example.com/Default%20Collection",
        ),
        ("https://{org}.vssps.example.com", "Contoso", "https://contoso.vssps.example.com"),
        ("https://{org}.vssps.example.com:8443/x/{org}", "a-b", "https://a-b.vssps.example.com:8443/x/a-b"),
        ("https://vssps.example.com/{org}", "evil.io:1/", "https://vssps.example.com/evil.io%3A1%2F"),
    ],
)
def test_expand_vssps(template: str, org: str, expected: str) -> None:
    from keyrings.azure_artifacts.urls import expand_vssps

    assert expand_vssps(template, org) == expected


@pytest.mark.parametrize("org", ["Default Collection", "evil.io:1/", "a.b", "x" * 64])
def test_expand_vssps_puts_only_a_dns_label_in_a_host(org: str) -> None:
    from keyrings.azure_artifacts.urls import expand_vssps

    with pytest.raises(ValueError, match="cannot be part of a host name"):
        expand_vssps("https://{org}.vssps.example.com", org)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://{org}.vssps.visualstudio.com", True),
        ("https://{org}.vssps.example.com:8443/path/{org}", True),
        ("https://vssps.dev.azure.com/{org}", True),
        ("https://{org}", False),  # the organization would be the whole host
        ("https://{org}.com", False),  # ... or choose the domain
        ("https://vssps.{org}.example.com", False),
        ("https://vssps-{org}.example.com", False),
        ("https://{org}{org}.example.com", False),
        ("https://{tenant}.example.com", False),
        ("https://example.com{org}", False),
    ],
)
def test_vssps_url_takes_org_in_the_host_only_as_the_first_label(value: str, ok: bool) -> None:
    from keyrings.azure_artifacts.config.values import vssps_url

    if ok:
        assert vssps_url(value) == value
    else:
        with pytest.raises(ValueError, match="may only be the first label"):
            vssps_url(value)


def test_a_built_in_host_never_reads_the_config() -> None:
    """Built-in hosts never match a host section: a built-in URL that is not ours (an invalid
    name) is refused without reading keyringrc.cfg."""
    assert not could_be_configured("https://pkgs.dev.azure.com/bad%3A/_packaging/f/pypi/simple/")
    assert not could_be_configured("https://contoso.pkgs.visualstudio.com/_packaging/f%20x/")
    assert could_be_configured("https://x.pkgs.dev.azure.com/contoso/_packaging/f/")
