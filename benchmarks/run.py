"""Measure what this backend costs other keyring users, as ratios against a baseline.

Builds two virtual environments in one run — keyring alone, and keyring with this
backend installed (non-editable, as users get it) — then interleaves the same
commands in both and prints medians, ranges and the ratio. Timings are never
asserted anywhere; this script only reports them.

    python benchmarks/run.py [--runs 30] [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = {
    "import keyring; get_keyring()": ["-c", "import keyring; keyring.get_keyring()"],
    "keyring get <foreign URL>": ["-m", "keyring", "get", "https://pypi.example.org/simple/", "user"],
}


def clean_env(home: Path) -> dict[str, str]:
    """No inherited keyring or pip settings; a private HOME so no config applies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_KEYRING", "KEYRINGS_"))}
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share")
    )
    return env


def make_venv(path: Path, packages: list[str]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = path / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"pip install failed in {path}:\n{done.stderr}")
    return python


def time_once(python: Path, args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(python), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the virtual environments")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aak-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    home = workdir / "home"
    home.mkdir(exist_ok=True)
    env = clean_env(home)
    try:
        print("building environments ...", file=sys.stderr)
        base = workdir / "baseline"
        ours = workdir / "ours"
        base_py = base / "bin" / "python" if base.exists() else make_venv(base, ["keyring"])
        ours_py = ours / "bin" / "python" if ours.exists() else make_venv(ours, [str(ROOT)])
        for python in (base_py, ours_py):  # warm the OS file cache and .pyc files
            for command in SCENARIOS.values():
                time_once(python, command, env)
        results: dict[str, dict[str, list[float]]] = {name: {"base": [], "ours": []} for name in SCENARIOS}
        for _ in range(args.runs):
            for name, command in SCENARIOS.items():
                results[name]["base"].append(time_once(base_py, command, env))
                results[name]["ours"].append(time_once(ours_py, command, env))
        print(f"{'scenario':<34}{'baseline median':>17}{'ours median':>13}{'ours min-max':>17}{'ratio':>8}")
        for name, series in results.items():
            b, o = statistics.median(series["base"]), statistics.median(series["ours"])
            spread = f"{min(series['ours']) * 1000:.0f}-{max(series['ours']) * 1000:.0f} ms"
            print(f"{name:<34}{b * 1000:>14.1f} ms{o * 1000:>10.1f} ms{spread:>17}{o / b:>8.3f}")
        print(f"({args.runs} interleaved runs each; baseline = keyring {_version(base_py)} alone)")
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('keyring'))"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
