"""Azure DevOps' naming rules for organization, project, feed and view names: a table of names
each rule takes or refuses, the problem named by `urls.name_problem`, and properties."""

from __future__ import annotations

from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyrings.azure_artifacts import names
from keyrings.azure_artifacts.urls import HostRule, name_problem, parse_host, parse_service

# (name, problem or None) for Azure DevOps Services organizations
ORGS: list[tuple[str, Optional[str]]] = [
    ("contoso", None),
    ("Contoso-EU-2", None),
    ("a", None),
    ("9", None),
    ("a" * 50, None),
    ("a" * 51, "is longer than 50 characters"),
    ("", "is empty"),
    ("-contoso", "must start and end with a letter or digit"),
    ("contoso-", "must start and end with a letter or digit"),
    ("con_toso", "has '_': only letters, digits and hyphens are allowed"),
    ("con.toso", "has '.': only letters, digits and hyphens are allowed"),
    ("attacker.example:8443/", "has '.': only letters, digits and hyphens are allowed"),
    ("evil:1", "has ':': only letters, digits and hyphens are allowed"),
    ("b\u00fcro", "has '\u00fc': only letters, digits and hyphens are allowed"),
    ("con toso", "has a space: only letters, digits and hyphens are allowed"),
    ("contoso\n", "has U+000A: only letters, digits and hyphens are allowed"),
]

PROJECTS: list[tuple[str, Optional[str]]] = [
    ("web", None),
    ("My Project", None),
    ("Caf\u00e9 (EU)", None),
    ("0b4e9a0c-7d2f-4c1a-9e1b-2a3c4d5e6f70", None),  # a GUID (download URLs)
    ("p" * 64, None),
    ("p" * 65, "is longer than 64 characters"),
    ("_web", "starts with '_'"),
    (".web", "starts or ends with '.'"),
    ("web.", "starts or ends with '.'"),
    ("a\tb", "has a control character (U+0009)"),
    ("a\x7fb", "has a control character (U+007F)"),
    *[(f"a{c}b", f"has '{c}', which is not allowed") for c in "/:~&%;@?<>|#$*}{,+=[]"],
    ("a\\b", "has '\\\\', which is not allowed"),
]

FEEDS: list[tuple[str, Optional[str]]] = [
    ("main", None),
    ("my_feed.v2-x", None),
    ("Release", None),
    ("5c6d7e8f-1a2b-4c3d-8e9f-0a1b2c3d4e5f", None),
    ("f" * 64, None),
    ("f" * 65, "is longer than 64 characters"),
    ("_main", "starts with '_'"),
    (".main", "starts with '.'"),
    ("main.", "ends with '.'"),
    ("ma in", "has a space, which is not allowed"),
    ("ma\u00a0in", "has U+00A0, which is not allowed"),
    ("ma\nin", "has a control character (U+000A)"),
    *[(f"a{c}b", f"has '{c}', which is not allowed") for c in '@~;{}+=<>|/?:&$*"#[]%'],
]


@pytest.mark.parametrize(("name", "problem"), ORGS)
def test_organization_names(name: str, problem: Optional[str]) -> None:
    assert names.org_problem(name, services=True) == problem


@pytest.mark.parametrize(("name", "problem"), PROJECTS)
def test_project_and_collection_names(name: str, problem: Optional[str]) -> None:
    assert names.project_problem(name) == problem
    # An Azure DevOps Server collection (the organization on a host a host section declares)
    # follows the same rule.
    assert names.org_problem(name, services=False) == problem


@pytest.mark.parametrize(("name", "problem"), FEEDS)
def test_feed_names(name: str, problem: Optional[str]) -> None:
    assert names.feed_problem(name) == problem


@pytest.mark.parametrize(
    ("service", "rules", "expected"),
    [
        (
            "https://pkgs.dev.azure.com/attacker.example%3A8443%2F/_packaging/main/pypi/simple/",
            [],
            "organization 'attacker.example:8443/' has '.': only letters, digits and hyphens are allowed",
        ),
        (
            "https://pkgs.dev.azure.com/contoso/we%2Fb/_packaging/main/pypi/simple/",
            [],
            "project 'we/b' has '/', which is not allowed",
        ),
        ("https://pkgs.dev.azure.com/contoso/_packaging/ma%3Ain/pypi/simple/", [], "feed 'ma:in' has ':'"),
        ("https://pkgs.dev.azure.com/contoso/_packaging/main@a%23b/pypi/simple/", [], "view 'a#b' has '#'"),
        (
            "https://con_toso.pkgs.visualstudio.com/_packaging/main/pypi/simple/",
            [],
            "organization 'con_toso'",
        ),
        (
            "https://pkgs.dev.azure.com/contoso%0A/_packaging/main/",
            [],
            "organization 'contoso\\n' has U+000A",
        ),
        (
            "https://tfs.example.com/tfs/Default%20Collection%3F/_packaging/main/pypi/simple/",
            [HostRule("tfs.example.com", path_prefix="/tfs")],
            "organization 'Default Collection?' has '?'",
        ),
    ],
)
def test_name_problem_says_which_name_and_why(service: str, rules: list[HostRule], expected: str) -> None:
    problem = name_problem(service, rules)
    assert problem is not None and problem.startswith(expected), problem
    assert "not an Azure Artifacts feed" in problem
    assert parse_service(service, rules) is None


@pytest.mark.parametrize(
    "service",
    [
        "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",  # ours
        "https://pypi.org/simple/",  # not ours for another reason: not a name problem
        "https://x.pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
        "https://tfs.example.com/tfs/a%3Ab/_packaging/main/",  # no host section: not ours at all
    ],
)
def test_no_name_problem(service: str) -> None:
    assert name_problem(service) is None


# --- properties ------------------------------------------------------------------------------

ORG_FORBIDDEN_IN_HOST = set("./:@?#%[]\\ ")


@given(st.text(max_size=70))
def test_a_valid_organization_is_a_dns_label(name: str) -> None:
    """Every name the Services rule takes can stand as one label of a host, and adds no host,
    port or path to a URL: what lets `{org}.vssps.visualstudio.com` be built from it."""
    if names.org_problem(name, services=True) is None:
        assert names.is_dns_label(name)
        assert not set(name) & ORG_FORBIDDEN_IN_HOST
        assert parse_host(f"{name}.vssps.visualstudio.com") == (
            f"{name.lower()}.vssps.visualstudio.com",
            None,
        )


@given(st.text(max_size=80), st.sampled_from(["project", "feed", "collection"]))
def test_valid_names_cannot_change_where_a_request_goes(name: str, kind: str) -> None:
    problem = {
        "project": names.project_problem,
        "feed": names.feed_problem,
        "collection": lambda n: names.org_problem(n, services=False),
    }[kind](name)
    if problem is None:
        assert not set(name) & set("/:@?#%\\[]")
        assert all(ord(c) >= 32 and not 127 <= ord(c) < 160 for c in name)
        assert 0 < len(name) <= 64 and not name.startswith(("_", ".")) and not name.endswith(".")


@given(
    st.text(max_size=60),
    st.sampled_from(["organization", "project", "feed", "view"]),
)
def test_a_url_is_ours_only_when_every_name_is_valid(name: str, where: str) -> None:
    """Whatever a segment decodes to, the URL is ours exactly when the name is valid, and then
    the URLs built from it hold it only percent-encoded, in the path (or as a DNS label)."""
    from urllib.parse import quote

    segment = quote(name, safe="")
    org, project, feed, view = "contoso", "web", "main", "Release"
    if where == "organization":
        org = segment
    elif where == "project":
        project = segment
    elif where == "feed":
        feed = segment
    else:
        view = segment
    service = f"https://pkgs.dev.azure.com/{org}/{project}/_packaging/{feed}@{view}/pypi/simple/"
    ref = parse_service(service)
    problem = {
        "organization": lambda n: names.org_problem(n, services=True),
        "project": names.project_problem,
        "feed": names.feed_problem,
        "view": names.feed_problem,
    }[where](name)
    if not name or name.startswith("_"):
        return  # no segment at all, or a `_x` segment: never a name (`_packaging`, `_apis`)
    assert (ref is None) == (problem is not None), (service, problem)
    if ref is not None:
        assert ref.feed_url().startswith("https://pkgs.dev.azure.com/")
        assert ref.default_vssps_url().startswith("https://vssps.dev.azure.com/")
        assert name_problem(service) is None
    else:
        assert name_problem(service) is not None


def test_an_encoded_at_sign_is_part_of_the_name_not_the_view_separator() -> None:
    """`feed@view` splits on a literal `@`; `%40` decodes into the name, where the rules refuse it
    (hypothesis found `%40@Release`, which once decoded to an empty feed and a silent None)."""
    service = "https://pkgs.dev.azure.com/contoso/web/_packaging/%40@Release/pypi/simple/"
    assert parse_service(service) is None
    assert name_problem(service) is not None and "feed" in name_problem(service)
    ref = parse_service("https://pkgs.dev.azure.com/contoso/_packaging/main@Release/pypi/simple/")
    assert ref is not None and (ref.feed, ref.view) == ("main", "Release")
