"""`explain --json` numbers: durations and timeouts are seconds, integers where whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli as run

pytestmark = pytest.mark.usefixtures("cli_env")


# --- explain --json: numbers of seconds are integers ----------------------------------------


def test_explain_json_timeout_default_is_integer_seconds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(_empty(tmp_path)))
    value = json.loads(out)["settings"]["timeout"]["value"]
    assert code == 0
    assert value == 20 and isinstance(value, int)


def test_explain_json_keeps_a_fractional_timeout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text("[artifacts]\ntimeout = 2.5\n", encoding="utf-8")
    url = "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/"
    code, out, _ = run(capsys, "explain", url, "--json", "--config", str(config))
    assert code == 0
    assert json.loads(out)["settings"]["timeout"] == {"value": 2.5, "from": "artifacts"}


def _empty(tmp_path: Path) -> Path:
    """A config file with nothing in it (a missing file named on the command line is an error)."""
    path = tmp_path / "empty.cfg"
    path.write_text("")
    return path
