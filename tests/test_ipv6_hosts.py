"""IPv6 hosts named by a `host` section: brackets kept in netloc, URLs, explain and section names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli as run

from keyrings.azure_artifacts.urls import HostRule, parse_service

pytestmark = pytest.mark.usefixtures("cli_env")


# --- an IPv6 host named by a `host` section -------------------------------------------


def test_ipv6_host_keeps_its_brackets_in_netloc_and_urls() -> None:
    rule = HostRule(host="::1", port=8443, path_prefix="/tfs")
    ref = parse_service("https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/", [rule])
    assert ref is not None
    assert ref.netloc == "[::1]:8443"
    assert ref.origin == "https://[::1]:8443"
    assert ref.default_vssps_url() == "https://[::1]:8443/tfs/coll"
    assert ref.feed_url() == "https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/"
    # What the backend remembers as the feed URL must be recognised again (logout --all uses it).
    assert parse_service(ref.feed_url(), [rule]) is not None


def test_ipv6_host_on_the_default_port_drops_the_port_only() -> None:
    ref = parse_service("https://[::1]/coll/_packaging/f/pypi/simple/", [HostRule(host="::1")])
    assert ref is not None
    assert ref.netloc == "[::1]"


def test_explain_json_shows_an_ipv6_host_bracketed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text('[artifacts host="[::1]:8443"]\npath_prefix = /tfs\n', encoding="utf-8")
    url = "https://[::1]:8443/tfs/coll/_packaging/f/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(config))
    report = json.loads(out)
    assert code == 0
    assert report["url"]["host"] == "[::1]:8443"
    assert report["settings"]["vssps_url"] == {"value": "https://[::1]:8443/tfs/coll", "from": "default"}


def test_section_names_may_hold_a_closing_bracket_on_every_python(tmp_path: Path) -> None:
    """configparser before 3.10 ends a section name at the first `]`, which cut
    `[artifacts host="[::1]:8443"]` short on Python 3.9 (requires-python >= 3.9)."""
    from keyrings.azure_artifacts.config.files import read_config

    config = tmp_path / "keyringrc.cfg"
    config.write_text('[artifacts host="[::1]:8443"]\npath_prefix = /tfs\n', encoding="utf-8")
    raw = read_config(config)
    assert raw.problems == ()
    assert [s.name for s in raw.sections] == ['artifacts host="[::1]:8443"']
