"""Install the packaging tools the tool tests drive (poetry, pdm, hatch, a `uv tool` keyring).

Run before pytest (the README's test command and .ci/run do): tests talk to 127.0.0.1
only, so fetching the tools from the package index happens here, not in a test. Each
tool gets its own virtual environment under `.tools/` with keyring and this checkout
installed editable, so the tests always drive the current code. Re-running is cheap:
an environment whose requirements did not change is left as it is.

    python tests/tools/install.py [--dir .tools]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / ".tools"
TIMEOUT = 900

# Versions checked here; pdm 2.29.3 crashes with unearth 0.19 / hishel 2.
TOOLS: dict[str, tuple[str, ...]] = {
    "poetry": ("poetry==2.5.1",),
    "pdm": ("pdm==2.29.3", "unearth<0.19", "hishel<2"),
    "hatch": ("hatch==1.18.2",),
}
UV_TOOL = "uv-tool"  # `uv tool install keyring --with keyrings.azure-artifacts`, the README's install
PIPX = "pipx"  # `pipx install keyring && pipx inject keyring keyrings.azure-artifacts`, the alternative
PIPX_SPEC = ("pipx==1.18.4",)


def uv() -> str:
    found = Path(sys.executable).parent / "uv"
    return str(found) if found.exists() else (shutil.which("uv") or "uv")


def stamp(spec: tuple[str, ...]) -> str:
    return hashlib.sha256("\n".join((sys.executable, *spec)).encode()).hexdigest()


def run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")


def venv(target: Path, python: str, spec: tuple[str, ...], env: dict[str, str]) -> bool:
    """A virtual environment with `spec` and this checkout (editable); False when already there."""
    ready = target / ".ready"
    if ready.exists() and ready.read_text() == stamp((python, *spec)):
        return False
    run([uv(), "venv", "-q", "--clear", "--python", python, str(target)], env)
    run(
        [uv(), "pip", "install", "-q", "--python", str(target / "bin" / "python"), *spec, "-e", str(REPO)],
        env,
    )
    ready.write_text(stamp((python, *spec)))
    return True


def install(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "VIRTUAL_ENV")}
    env.update(UV_CACHE_DIR=str(root / "uv-cache"), UV_PYTHON_DOWNLOADS="never")
    for tool, spec in TOOLS.items():
        if venv(root / tool, sys.executable, spec, env):
            print(f"installed {tool} in {root / tool}")
    tools, bins = root / UV_TOOL / "tools", root / UV_TOOL / "bin"
    ready = root / UV_TOOL / ".ready"
    if not (ready.exists() and ready.read_text() == stamp(("keyring",))):
        tool_env = {**env, "UV_TOOL_DIR": str(tools), "UV_TOOL_BIN_DIR": str(bins)}
        command = [
            "tool",
            "install",
            "--force",
            "--python",
            sys.executable,
            "keyring",
            "--with-editable",
            str(REPO),
        ]
        run([uv(), *command], tool_env)
        ready.write_text(stamp(("keyring",)))
        print(f"installed `uv tool` keyring in {bins}")
    pipx_root = root / PIPX
    ready = pipx_root / ".ready"
    if not (ready.exists() and ready.read_text() == stamp(PIPX_SPEC)):
        venv(pipx_root / "venv", sys.executable, PIPX_SPEC, env)
        pipx_env = {**env, "PIPX_HOME": str(pipx_root / "home"), "PIPX_BIN_DIR": str(pipx_root / "bin")}
        pipx_env["PIPX_DEFAULT_PYTHON"] = sys.executable
        pipx = str(pipx_root / "venv" / "bin" / "pipx")
        run([pipx, "install", "--force", "keyring"], pipx_env)
        run([pipx, "inject", "--force", "--editable", "keyring", str(REPO)], pipx_env)
        ready.write_text(stamp(PIPX_SPEC))
        print(f"installed pipx keyring in {pipx_root / 'bin'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    install(args.dir.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
