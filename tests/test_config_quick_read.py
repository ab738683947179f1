"""A valid configuration is read without pydantic; one with problems gets pydantic's located
errors. Both readings give the same options."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keyrings.azure_artifacts.config.files import RawConfig
from keyrings.azure_artifacts.config.options import Options, validate_options
from keyrings.azure_artifacts.config.resolve import _quick, validate
from keyrings.azure_artifacts.config.sections import Section
from keyrings.azure_artifacts.config.table import PARSERS

CONFIG = """[artifacts]
auth = pat
pat_duration = P90D
scopes = vso.packaging, vso.packaging_write
[artifacts org="contoso"]
tenant = contoso.onmicrosoft.com
timeout = 7.5
credential = azure_cli, device_code
[artifacts host="devops.contoso.local:8443"]
path_prefix = /tfs
allow_http = yes
"""

SAMPLES = {
    "auth": ["session", "PAT", "bearer ", "token"],
    "credential": ["auto", "azure_cli, device_code", "auto, static", "static,static", "nope"],
    "tenant": ["72F988BF-86F1-41AF-91AB-2D7CD011DB47", "contoso.onmicrosoft.com", "not a tenant"],
    "authority_host": ["https://login.microsoftonline.us/", "http://x"],
    "client_id": ["00000000-0000-0000-0000-000000000001", "abc"],
    "scopes": ["vso.packaging vso.packaging_write", "vso.packaging,,", "root"],
    "pat_duration": ["90d", "P90D", "1d12h", "0d", "400d", "soon"],
    "pat_renew_before": ["3d", "PT12H", ""],
    "session_duration": ["4h", "-1h"],
    "username": ["me", "two words", "a:b"],
    "interactive": ["auto", "NEVER", "sometimes"],
    "token_env": ["MY_PAT", "1BAD"],
    "token_file": ["~/pat.txt", " "],
    "vssps_url": ["https://vssps.dev.azure.com/{org}", "ftp://x"],
    "timeout": ["20", "0.5", "0", "700", "x"],
    "ca_bundle": ["/etc/pki/company-ca.pem", "  "],
    "path_prefix": ["/tfs/", "tfs", "/a b"],
    "allow_http": ["yes", "off", "maybe"],
}


def test_one_parser_table_for_the_model_and_the_quick_pass() -> None:
    assert set(PARSERS) == set(Options.model_fields) == set(SAMPLES)


@given(st.dictionaries(st.sampled_from(sorted(SAMPLES)), st.integers(0, 5), max_size=6))
def test_the_quick_pass_reads_what_pydantic_reads(picks: dict[str, int]) -> None:
    raw_options = {name: SAMPLES[name][i % len(SAMPLES[name])] for name, i in picks.items()}
    model, problems = validate_options(raw_options)
    section = Section('artifacts host="h"', {"host": "h"}, raw_options)
    quick = _quick(RawConfig(Path("k.cfg"), True, (section,)))
    if problems:
        assert quick is None
    else:
        assert quick is not None and dict(quick.options[section.name]) == model.model_dump(exclude_none=True)


def test_a_valid_file_reads_the_same_either_way(tmp_path: Path) -> None:
    from keyrings.azure_artifacts.config.files import read_config

    config = tmp_path / "keyringrc.cfg"
    config.write_text(CONFIG)
    raw = read_config(config)
    quick = _quick(raw)
    assert quick is not None and quick == validate(raw)
    assert quick.options['artifacts org="contoso"']["credential"] == ("azure_cli", "device_code")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("colour = blue\n", "colour: unknown option"),
        ("timeout = never\n", "timeout: 'never' is not a number of seconds"),
        ('[artifacts org="x"]\npath_prefix = /tfs\n', "path_prefix: only allowed in a host section"),
    ],
)
def test_a_file_with_a_problem_gets_the_located_message(tmp_path: Path, extra: str, problem: str) -> None:
    from keyrings.azure_artifacts.config.files import read_config

    config = tmp_path / "keyringrc.cfg"
    config.write_text(CONFIG + extra)
    raw = read_config(config)
    assert _quick(raw) is None
    assert any(problem in p and str(config) in p for p in validate(raw).problems), validate(raw).problems


def test_a_cold_lookup_of_a_valid_file_does_not_import_pydantic(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    code = (
        "import json, sys\n"
        "from keyrings.azure_artifacts import service\n"
        "url = 'https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/'\n"
        "r = service.resolve(url, json.loads(sys.argv[1]))\n"
        "print(json.dumps({'pydantic': 'pydantic' in sys.modules, 'errors': len(r.errors + r.warnings)}))\n"
    )
    env = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path),
    }
    seen = []
    for text in (CONFIG.replace("P90D", "90d"), CONFIG + "colour = blue\n"):
        config.write_text(text)
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(env)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        seen.append(json.loads(done.stdout))
    assert seen == [{"pydantic": False, "errors": 0}, {"pydantic": True, "errors": 1}]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("https://login.microsoftonline.com", True),
        ("https://127.0.0.1:8443/base/", True),
        ("https://{org}.vssps.visualstudio.com", True),
        ("https://vssps.dev.azure.com/{org}", True),
        ("https://[::1]:8443", True),
        ("https://https://x", False),  # a doubled scheme is no host
        ("https://user:pw@host", False),  # credentials never belong in a URL option
        ("https://host?x=1", False),
        ("https://host:port", False),
        ("http://host", False),
    ],
)
def test_https_url_options_take_a_host_and_nothing_else(text: str, ok: bool) -> None:
    parse = PARSERS["authority_host"]
    if ok:
        assert parse(text) == text.rstrip("/")
    else:
        with pytest.raises(ValueError, match="is not an https URL"):
            parse(text)
