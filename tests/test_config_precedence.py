"""Which section wins: qualifier weights decide, file order only breaks ties.

Every config here is written so that the answer would change if the weights were
ignored, changed by one, or if file order decided. Each case puts the section that
must LOSE later in the file (where a tie, or "file order only", would make it win),
so a scoring bug cannot hide behind a friendly section order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keyrings.azure_artifacts.config.files import read_config
from keyrings.azure_artifacts.config.resolve import resolve, validate
from keyrings.azure_artifacts.config.sections import QUALIFIER_WEIGHTS
from keyrings.azure_artifacts.urls import parse_service

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
