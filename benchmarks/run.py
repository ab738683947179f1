"""Measure what this backend costs, as ratios against baselines measured in the same run.

Builds two virtual environments — keyring alone, and keyring with this backend
installed (non-editable, as users get it) — starts the project's fake Entra ID +
Azure DevOps server, and interleaves every scenario. It prints medians, ranges,
ratios, peak memory and the HTTP round trips the fake saw. Nothing here is a test:
timings are reported, never asserted.

    python benchmarks/run.py [--runs 20] [--workdir DIR]
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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "00000000-0000-0000-0000-0000000000be"
FOREIGN = "https://pypi.example.org/simple/"


@dataclass
class Series:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


def make_venv(path: Path, packages: list[str]) -> Path:
    python = path / "bin" / "python"
    if python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"pip install failed in {path}:\n{done.stderr}")
    return python


# Runs `python -m keyring ARGS` and records the process's own peak RSS (VmHWM) at exit.
# (ru_maxrss from wait4 would include the parent's memory from before exec.)
KEYRING_WITH_PEAK = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(os.environ["AAK_BENCH_PEAK"], "w") as out:
                    out.write(line.split()[1])
atexit.register(peak)
sys.argv = ["keyring", *sys.argv[1:]]
runpy.run_module("keyring", run_name="__main__", alter_sys=True)
"""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall time, peak RSS in KiB (0 where /proc is missing) and stdout of one `keyring` run."""
    python, keyring_args = argv[0], argv[3:]  # argv is [python, "-m", "keyring", ...]
    with tempfile.NamedTemporaryFile("r") as peak_file:
        start = time.perf_counter()
        done = subprocess.run(
            [python, "-c", KEYRING_WITH_PEAK, *keyring_args],
            env={**env, "AAK_BENCH_PEAK": peak_file.name},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        elapsed = time.perf_counter() - start
        text = peak_file.read().strip()
    return elapsed, int(text) if text.isdigit() else 0, done.stdout.decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="reuse virtual environments kept here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from keyrings.azure_artifacts.testing import FakeAzure

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aak-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("building environments ...", file=sys.stderr)
    base_py = make_venv(workdir / "baseline", ["keyring"])
    ours_py = make_venv(workdir / "ours", [str(ROOT)])
    home = Path(tempfile.mkdtemp(prefix="aak-bench-home-"))
    try:
        with FakeAzure() as fake:
            fake.add_org("contoso")
            fake.add_feed("contoso", "main")
            fake.add_app(APP_ID, secret="bench-secret")
            config = home / "keyringrc.cfg"
            config.write_text(
                f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n'
                f"tenant = {fake.default_tenant}\n"
            )
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("PYTHON_KEYRING", "KEYRINGS_", "AZURE_"))
            }
            env.update(
                HOME=str(home),
                XDG_CONFIG_HOME=str(home / "config"),
                XDG_DATA_HOME=str(home / "data"),
                KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(config),
                REQUESTS_CA_BUNDLE=fake.ca_path,
                AZURE_TENANT_ID=fake.default_tenant,
                AZURE_CLIENT_ID=APP_ID,
                AZURE_CLIENT_SECRET="bench-secret",
            )
            feed = fake.feed_url("contoso", "main")

            def keyring_get(python: Path, url: str) -> list[str]:
                return [str(python), "-m", "keyring", "get", url, "user"]

            # Cold lookups: round trips per scenario, counted at the fake.
            trips: list[tuple[str, str]] = []

            def cold(name: str, prepare: Callable[[], None]) -> None:
                prepare()
                fake.clear_log()
                _, _, out = run(keyring_get(ours_py, feed), env)
                routes = [r.route for r in fake.requests]
                summary = ", ".join(f"{r} x{routes.count(r)}" for r in dict.fromkeys(routes)) or "none"
                trips.append((name, f"{len(routes)} ({summary})" + ("" if out.strip() else "  [NO SECRET]")))

            state = home / "data" / "python_keyring" / "azure-artifacts"
            cold(
                "pinned tenant, service principal, empty cache",
                lambda: shutil.rmtree(state, ignore_errors=True),
            )
            cold("same again, secret cached", lambda: None)
            config.write_text(f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n')
            cold("unpinned tenant, empty cache", lambda: shutil.rmtree(state, ignore_errors=True))
            cold(
                "unpinned tenant, secrets forgotten (discovery cached)",
                lambda: shutil.rmtree(state / "secrets"),
            )

            scenarios = {
                "foreign: keyring alone": keyring_get(base_py, FOREIGN),
                "foreign: with this backend": keyring_get(ours_py, FOREIGN),
                "ours, warm (secret cached)": keyring_get(ours_py, feed),
            }
            for argv in scenarios.values():  # warm the OS file cache and .pyc files
                run(argv, env)
            fake.clear_log()
            results = {name: Series() for name in scenarios}
            for _ in range(args.runs):
                for name, argv in scenarios.items():
                    seconds, rss, _ = run(argv, env)
                    results[name].seconds.append(seconds)
                    results[name].rss_kib.append(rss)
            warm_requests = fake.count()
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    base = results["foreign: keyring alone"]
    foreign = results["foreign: with this backend"]
    ratios = {
        "foreign: keyring alone": ("-", base),
        "foreign: with this backend": ("keyring alone", base),
        "ours, warm (secret cached)": ("foreign, with this backend", foreign),
    }
    print(f"\n{'scenario':<30}{'median':>10}{'min-max':>16}{'ratio':>8}  {'against':<28}{'peak RSS':>10}")
    for name, series in results.items():
        against, baseline = ratios[name]
        ratio = "-" if against == "-" else f"{series.median_ms() / baseline.median_ms():.3f}"
        spread = f"{min(series.seconds) * 1000:.0f}-{max(series.seconds) * 1000:.0f} ms"
        rss = statistics.median(series.rss_kib) / 1024
        print(f"{name:<30}{series.median_ms():>7.1f} ms{spread:>16}{ratio:>8}  {against:<28}{rss:>7.1f} MiB")
    extra = (
        statistics.median(results["ours, warm (secret cached)"].rss_kib) - statistics.median(base.rss_kib)
    ) / 1024
    print(
        f"\nwarm lookup peak RSS minus keyring's own (foreign lookup, keyring alone): {extra * 1024:+.0f} KiB"
    )
    print(f"requests at the fake during {args.runs} warm lookups: {warm_requests}")
    print("\ncold lookups (HTTP round trips seen at the fake):")
    for name, summary in trips:
        print(f"  {name:<56}{summary}")
    print(f"\n({args.runs} interleaved runs per scenario, medians; Python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
