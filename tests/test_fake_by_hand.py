"""`python -m keyrings.azure_artifacts.testing` for users who try the product by hand."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import CleanEnv

NO_TRUSTME = (
    "import runpy, sys; sys.modules['trustme'] = None; sys.argv = ['x']; "
    "runpy.run_module('keyrings.azure_artifacts.testing', run_name='__main__')"
)


def test_without_the_testing_extra_one_line_names_it(clean_env: CleanEnv) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_TRUSTME], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "python -m keyrings.azure_artifacts.testing: needs the testing extra (trustme is missing): "
        "pip install 'keyrings.azure-artifacts[testing]'"
    ]


def test_help_shows_defaults_and_automatic_approval(clean_env: CleanEnv) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "keyrings.azure_artifacts.testing", "--help"],
        env=clean_env(COLUMNS="200"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    out = " ".join(done.stdout.split())
    assert "approved automatically" in out
    assert "default: contoso" in out and "default: main in each org" in out and "demo-pkg==1.0.0" in out


def test_feeds_belong_to_the_org_before_them_and_env_lines_paste(clean_env: CleanEnv) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "keyrings.azure_artifacts.testing",
         "--org", "alpha", "--feed", "x", "--feed", "y", "--org", "beta"],
        env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for _ in range(60):  # bounded: the banner is about 20 lines
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if line.startswith("export PIP_CERT"):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
    feeds = [line.split()[-1] for line in lines if line.startswith("feed:")]
    assert [f.split("/")[3:6] for f in feeds] == [
        ["alpha", "_packaging", "x"], ["alpha", "_packaging", "y"], ["beta", "_packaging", "main"]
    ]  # fmt: skip
    exports = [line for line in lines if line.startswith("export ")]
    assert len(exports) == 3
    ca = next(line.split(None, 2)[-1] for line in lines if line.startswith("CA certificate:"))
    shell = subprocess.run(
        ["/bin/sh", "-c", "\n".join(exports) + '\nprintf %s "$REQUESTS_CA_BUNDLE"'],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert shell.stdout == ca
