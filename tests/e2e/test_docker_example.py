"""examples/docker/index-url.sh: the index URL it composes installs with pip on its own.

There is no Docker engine in the test environment, so this tests the shell side: the
script's URL, fed to pip with keyring switched off, installs from the fake feed. The
Dockerfile only reads that URL from a secret mount.

`index-url.sh` runs `azure-artifacts-keyring token --json URL`. Where this checkout has no
`token` command yet, a stand-in prints the same JSON object from a real `keyring get`
(the backend, the fake's token service): the composed URL is checked either way.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PACKAGE, Sandbox

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "docker" / "index-url.sh"
STAND_IN = f"""\
#!/bin/sh
# Stand-in for `azure-artifacts-keyring token --json URL`: the same JSON from a real lookup.
[ "$1" = token ] && [ "$2" = --json ] || exit 2
exec "{sys.executable}" -c '
import json, sys, keyring
secret = keyring.get_password(sys.argv[1], "VssSessionToken")
if secret is None:
    sys.exit("no credential for " + sys.argv[1])
print(json.dumps({{"username": "VssSessionToken", "secret": secret, "kind": "session", "expires_at": None}}))
' "$3"
"""


def token_command(box: Sandbox) -> str:
    """The real `azure-artifacts-keyring` when it has `token`, else the stand-in above."""
    has_token = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts", "token", "--help"],
        env=box.env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if has_token.returncode == 0:
        wrapper = box.bin_dir / "azure-artifacts-keyring"
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m keyrings.azure_artifacts "$@"\n')
    else:
        wrapper = box.bin_dir / "token-stand-in"
        wrapper.write_text(STAND_IN)
    wrapper.chmod(0o755)
    return str(wrapper)


def index_url(box: Sandbox, feed: str) -> subprocess.CompletedProcess[str]:
    """The script under /bin/sh; its `python3` is this venv's (first on the sandbox's PATH)."""
    env = {**box.env, "AZURE_ARTIFACTS_KEYRING": token_command(box)}
    return box.run([shutil.which("sh") or "/bin/sh", str(SCRIPT), feed], env=env, timeout=60)


def test_the_composed_index_url_installs_with_keyring_switched_off(sp_sandbox: Sandbox) -> None:
    box = sp_sandbox
    feed = box.index_url_with_user()  # a username already in the URL gives way to the credential

    composed = index_url(box, feed)
    assert composed.returncode == 0, composed.stderr
    url = composed.stdout.strip()
    [session] = box.fake.issued("session")
    assert url == box.index_url.replace("https://", f"https://VssSessionToken:{session.secret}@", 1)
    assert composed.stderr == ""  # nothing of it on the build log's side

    target = box.root / "target"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--target", str(target)]
    done = box.run([*pip, "--keyring-provider", "disabled", "--index-url", url, PACKAGE])

    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "demo_pkg" / "__init__.py").is_file()
    assert box.fake.count("download", status=200, auth_kind="session") >= 1
    assert box.fake.count("session_token") == 1  # pip asked nobody: the URL carried the credential


def test_no_credential_stops_the_script_with_nothing_on_stdout(sandbox: Sandbox) -> None:
    """No silent way to a token (no service principal, CI): the script fails and prints no URL."""
    box = sandbox
    box.env["CI"] = "true"

    composed = index_url(box, box.index_url)

    assert composed.returncode != 0
    assert composed.stdout == ""
    assert box.fake.count("session_token") == 0


def test_the_dockerfile_reads_the_url_from_a_secret_mount_only() -> None:
    dockerfile = (SCRIPT.parent / "Dockerfile").read_text(encoding="utf-8")

    assert "RUN --mount=type=secret,id=pip_index_url" in dockerfile
    assert 'PIP_INDEX_URL="$(cat /run/secrets/pip_index_url)"' in dockerfile
    assert "ARG " not in dockerfile and "\nENV " not in dockerfile  # both are recorded in the image
    readme = (SCRIPT.parent / "README.md").read_text(encoding="utf-8")
    assert "--secret id=pip_index_url,env=PIP_INDEX_URL" in readme
