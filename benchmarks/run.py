"""Measure what this backend costs, as ratios against baselines measured in the same run.

Builds two virtual environments — keyring alone, and keyring with this backend
installed (non-editable, as users get it) — starts the project's fake Entra ID +
Azure DevOps server in this process, and runs every scenario once per round, in an
order that rotates from round to round. Cold scenarios get a fresh state directory
for every run (prepared before the clock starts), so each run is a first lookup of
the day. It prints medians, ranges, ratios (of the medians, and the median of each
round's own ratio against the foreign lookup of that round), peak memory and the HTTP
round trips the fake saw. Nothing here is a test: timings are reported, never asserted.

    python benchmarks/run.py [--runs 20] [--workdir DIR] [--importtime]
    unshare --mount python benchmarks/run.py --os-store ...   # Linux, root

`--os-store` measures the default trust path (the OS trust store, through truststore on
Python >= 3.10) instead of a CA named by REQUESTS_CA_BUNDLE: the fake's CA is appended to a
copy of the system bundle, bind-mounted over it, and no CA variable is set. The mount is made
in this process's mount namespace, hence `unshare --mount`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
APP_ID = "00000000-0000-0000-0000-0000000000be"
FOREIGN = "https://pypi.example.org/simple/"
STATE_VARIABLE = "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"
# The baseline every other scenario is compared with, and the budgets the cold ones are held to.
BASELINE = "foreign: with this backend"
BUDGETS = {
    "cold: service principal, pinned tenant": 2.0,
    "cold: service principal, tenant discovered": 2.3,
    "cold: signed-in user, refresh token": 2.0,
}


@dataclass
class Series:
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    routes: Counter[str] = field(default_factory=Counter)
    failures: int = 0

    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000


@dataclass
class Scenario:
    """One `keyring get`; `prepare` returns the environment of one run (a fresh state dir for cold ones)."""

    python: Path
    url: str
    prepare: Callable[[], dict[str, str]]
    expect_secret: bool = True


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


def run(python: Path, url: str, env: dict[str, str]) -> tuple[float, int, str]:
    """Wall time, peak RSS in KiB (0 where /proc is missing) and stdout of one `keyring get URL user`.

    Runs in HOME: `python -c` puts the working directory first on sys.path, and a checkout
    there would replace the installed package under test."""
    with tempfile.NamedTemporaryFile("r") as peak_file:
        start = time.perf_counter()
        done = subprocess.run(
            [str(python), "-c", KEYRING_WITH_PEAK, "get", url, "user"],
            env={**env, "AAK_BENCH_PEAK": peak_file.name},
            cwd=env["HOME"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        elapsed = time.perf_counter() - start
        text = peak_file.read().strip()
    return elapsed, int(text) if text.isdigit() else 0, done.stdout.decode()


def import_times(python: Path, url: str, env: dict[str, str], top: int = 14) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) of the top-level imports of one lookup, largest first."""
    done = subprocess.run(
        [str(python), "-X", "importtime", "-m", "keyring", "get", url, "user"],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(3)) == 1:  # top level: nothing above it imported it
            rows.append((int(match.group(2)), int(match.group(1)), match.group(4)))
    return sorted(rows, reverse=True)[:top]


def trust_through_os_store(ca_path: str, home: Path) -> None:
    """Bind-mount the system bundle plus the fake's CA over the system bundle (this namespace only)."""
    import ssl

    system = Path(os.path.realpath(ssl.get_default_verify_paths().openssl_cafile))
    bundle = home / "os-store.pem"
    bundle.write_bytes(system.read_bytes() + b"\n" + Path(ca_path).read_bytes())
    done = subprocess.run(["mount", "--bind", str(bundle), str(system)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"--os-store: cannot bind-mount over {system} (run under `unshare --mount`): {done.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="rounds; every scenario runs once per round")
    parser.add_argument("--workdir", type=Path, help="reuse virtual environments kept here")
    parser.add_argument(
        "--importtime", action="store_true", help="also show `-X importtime` top entries of the cold lookup"
    )
    parser.add_argument(
        "--os-store",
        action="store_true",
        help="trust the fake through the OS store (run under unshare --mount)",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from keyrings.azure_artifacts.testing import FakeAzure

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="aak-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("building environments ...", file=sys.stderr)
    base_py = make_venv(workdir / "baseline", ["keyring"])
    ours_py = make_venv(workdir / "ours", [str(ROOT)])
    home = Path(tempfile.mkdtemp(prefix="aak-bench-home-"))
    fresh_dirs: list[Path] = []
    try:
        with FakeAzure() as fake:
            fake.add_org("contoso")
            fake.add_feed("contoso", "main")
            fake.add_app(APP_ID, secret="bench-secret")
            feed = fake.feed_url("contoso", "main")
            section = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n'

            def config(name: str, text: str) -> Path:
                path = home / f"{name}.cfg"
                path.write_text(section + text)
                return path

            pinned = config("pinned", f"tenant = {fake.default_tenant}\n")
            unpinned = config("unpinned", "")
            user_config = config("user", f"tenant = {fake.default_tenant}\ninteractive = never\n")
            (home / "bin").mkdir()
            clean = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("PYTHON_KEYRING", "KEYRINGS_", "AZURE_", "IDENTITY_", "MSI_"))
                and k not in ("CI", "TF_BUILD", "GITHUB_ACTIONS", "PATH")
            }
            clean.update(
                HOME=str(home),
                XDG_CONFIG_HOME=str(home / "config"),
                XDG_DATA_HOME=str(home / "data"),
                REQUESTS_CA_BUNDLE=fake.ca_path,
                PATH=str(home / "bin"),  # no `az` to find: the chain goes straight to its flow
            )
            if args.os_store:
                trust_through_os_store(fake.ca_path, home)
                for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
                    clean.pop(name, None)
            sp_env = {
                **clean,
                "AZURE_TENANT_ID": fake.default_tenant,
                "AZURE_CLIENT_ID": APP_ID,
                "AZURE_CLIENT_SECRET": "bench-secret",
            }

            def fresh(template: Optional[Path] = None) -> Path:
                state = Path(tempfile.mkdtemp(prefix="state-", dir=home))
                fresh_dirs.append(state)
                if template is not None:
                    for item in template.iterdir():
                        if item.is_file():
                            shutil.copy2(item, state / item.name)
                return state

            def cold_env(
                base: dict[str, str], config_path: Path, template: Optional[Path] = None
            ) -> dict[str, str]:
                return {
                    **base,
                    "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(config_path),
                    STATE_VARIABLE: str(fresh(template)),
                }

            # A signed-in user: one device-code sign-in whose MSAL cache (refresh token, msal's
            # metadata) every user run starts from; access tokens that need a refresh by then.
            print("signing a user in ...", file=sys.stderr)
            fake.device_code_interval = 0
            fake.device_user(approve_after_polls=1)
            fake.token_lifetime = 120  # msal refreshes an access token with less than 5 minutes left
            signed_in = fresh()
            login = config("login", f"tenant = {fake.default_tenant}\ninteractive = always\n")
            _, _, out = run(
                ours_py,
                feed,
                {**clean, "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(login), STATE_VARIABLE: str(signed_in)},
            )
            if not out.strip() or not (signed_in / "msal_token_cache.bin").exists():
                sys.exit("the device-code sign-in for the signed-in user scenario failed")
            for item in signed_in.iterdir():  # keep the sign-in only: no session token, no warm index
                if item.name not in ("msal_token_cache.bin", "msal_metadata.json"):
                    shutil.rmtree(item) if item.is_dir() else item.unlink()

            warm_env = cold_env(sp_env, pinned)
            scenarios = {
                "foreign: keyring alone": Scenario(base_py, FOREIGN, lambda: clean, expect_secret=False),
                BASELINE: Scenario(ours_py, FOREIGN, lambda: warm_env, expect_secret=False),
                "ours, warm (secret cached)": Scenario(ours_py, feed, lambda: warm_env),
                "cold: service principal, pinned tenant": Scenario(
                    ours_py, feed, lambda: cold_env(sp_env, pinned)
                ),
                "cold: service principal, tenant discovered": Scenario(
                    ours_py, feed, lambda: cold_env(sp_env, unpinned)
                ),
                "cold: signed-in user, refresh token": Scenario(
                    ours_py, feed, lambda: cold_env(clean, user_config, signed_in)
                ),
            }
            for scenario in scenarios.values():  # warm the OS file cache and .pyc files
                run(scenario.python, scenario.url, scenario.prepare())
            results = {name: Series() for name in scenarios}
            names = list(scenarios)
            for round_ in range(args.runs):
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    scenario = scenarios[name]
                    env = scenario.prepare()
                    fake.clear_log()
                    seconds, rss, out = run(scenario.python, scenario.url, env)
                    series = results[name]
                    series.seconds.append(seconds)
                    series.rss_kib.append(rss)
                    series.requests.append(fake.count())
                    series.routes.update(r.route for r in fake.requests)
                    if bool(out.strip()) != scenario.expect_secret:
                        series.failures += 1
                    if STATE_VARIABLE in env and env is not warm_env:
                        shutil.rmtree(env[STATE_VARIABLE], ignore_errors=True)
            imports = import_times(ours_py, feed, cold_env(sp_env, pinned)) if args.importtime else []
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    base = results["foreign: keyring alone"]
    foreign = results[BASELINE]
    against = {"foreign: keyring alone": None, BASELINE: base}
    print(
        f"\n{'scenario':<44}{'median':>10}{'min-max':>16}{'ratio':>8}{'paired':>8}{'budget':>8}"
        f"{'peak RSS':>10}  requests per run"
    )
    for name, series in results.items():
        baseline = against.get(name, foreign)
        if baseline is None:
            ratio = paired = "-"
        else:
            ratio = f"{series.median_ms() / baseline.median_ms():.2f}"
            paired = f"{statistics.median(a / b for a, b in zip(series.seconds, baseline.seconds)):.2f}"
        budget = f"{BUDGETS[name]:.1f}" if name in BUDGETS else ""
        spread = f"{min(series.seconds) * 1000:.0f}-{max(series.seconds) * 1000:.0f} ms"
        rss = statistics.median(series.rss_kib) / 1024
        per_run = statistics.median(series.requests)
        routes = ", ".join(f"{r} {n // len(series.seconds)}" for r, n in series.routes.items())
        trips = f"{per_run:g}" + (f" ({routes})" if routes else "")
        failed = f"  [{series.failures} runs without the expected answer]" if series.failures else ""
        print(
            f"{name:<44}{series.median_ms():>7.1f} ms{spread:>16}{ratio:>8}{paired:>8}{budget:>8}"
            f"{rss:>7.1f} MiB  {trips}{failed}"
        )
    extra = (
        statistics.median(results["ours, warm (secret cached)"].rss_kib) - statistics.median(base.rss_kib)
    ) / 1024
    print(
        f"\nratio: median against the median of '{BASELINE}' (the foreign lookup against 'keyring alone');"
        "\npaired: median of each round's own ratio against that round's foreign lookup."
    )
    print(
        f"warm lookup peak RSS minus keyring's own (foreign lookup, keyring alone): {extra * 1024:+.0f} KiB"
    )
    if imports:
        print("\n-X importtime, cold lookup (service principal, pinned tenant), top-level imports:")
        print(f"  {'cumulative':>10} {'self':>8}  module")
        for cumulative, own, module in imports:
            print(f"  {cumulative / 1000:>7.1f} ms {own / 1000:>5.1f} ms  {module}")
    print(
        f"\n({args.runs} rounds, every scenario once per round in rotating order, fresh state dir "
        f"for every cold run; Python {sys.version.split()[0]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
