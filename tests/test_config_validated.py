"""A configuration is validated once: later cold lookups with the same file skip pydantic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from keyrings.azure_artifacts.config.files import read_config
from keyrings.azure_artifacts.config.resolve import validate
from keyrings.azure_artifacts.config.validated import FILE_NAME, load, validate_once

CONFIG = """[artifacts]
auth = pat
pat_duration = P90D
scopes = vso.packaging, vso.packaging_write
[artifacts org="contoso"]
tenant = contoso.onmicrosoft.com
timeout = 7.5
credential = azure_cli, device_code
"""


def test_the_kept_result_equals_a_fresh_validation(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text(CONFIG)
    raw = read_config(config)
    assert load(raw, tmp_path) is None
    first = validate_once(raw, tmp_path)
    kept = load(raw, tmp_path)
    assert kept is not None and kept == first == validate(raw)
    assert kept.options['artifacts org="contoso"']["credential"] == ("azure_cli", "device_code")
    assert (tmp_path / FILE_NAME).stat().st_mode & 0o777 == 0o600


def test_a_changed_or_damaged_file_is_validated_again(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text(CONFIG)
    validate_once(read_config(config), tmp_path)
    config.write_text(CONFIG + "colour = blue\n")
    changed = validate_once(read_config(config), tmp_path)
    assert any("colour: unknown option" in p for p in changed.problems)
    (tmp_path / FILE_NAME).write_text("{not json")
    (tmp_path / FILE_NAME).chmod(0o600)
    assert validate_once(read_config(config), tmp_path) == changed
    stored = json.loads((tmp_path / FILE_NAME).read_text())
    stored["options"] = {"someone else's": {}}
    (tmp_path / FILE_NAME).write_text(json.dumps(stored))
    assert load(read_config(config), tmp_path) is None


def test_second_cold_lookup_does_not_import_pydantic(tmp_path: Path) -> None:
    config = tmp_path / "keyringrc.cfg"
    config.write_text(CONFIG.replace("auth = pat", "auth = session"))
    code = (
        "import json, sys\n"
        "from keyrings.azure_artifacts import service\n"
        "url = 'https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/'\n"
        "r = service.resolve(url, json.loads(sys.argv[1]))\n"
        "print(json.dumps({'pydantic': 'pydantic' in sys.modules, 'tenant': r.settings.tenant,\n"
        "                  'errors': list(r.errors)}))\n"
    )
    env = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path),
    }
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(env)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        runs.append(json.loads(done.stdout))
    assert runs[0]["pydantic"] is True and runs[1]["pydantic"] is False
    assert runs[0]["tenant"] == runs[1]["tenant"] == "contoso.onmicrosoft.com"
    assert runs[0]["errors"] == runs[1]["errors"] == []
