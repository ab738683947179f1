"""Offline demo: pip installs a private package through the Azure Artifacts keyring backend.

No Azure account and no internet: the project's fake Entra ID + Azure DevOps server
runs on 127.0.0.1 with its own CA, and real pip talks to it. Run it from a clone:

    python3 -m venv .venv && .venv/bin/python -m pip install -q -e '.[testing]'
    .venv/bin/python examples/offline_demo.py

Every tool runs in a subprocess with an environment built here (temporary HOME and
XDG directories, only the fake's CA, no pip.conf), so nothing on this machine is
read or changed. Exit status: 0 when pip installed the package through the
backend, 1 otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyrings.azure_artifacts.testing import FakeAzure

ORG, FEED, PACKAGE, VERSION = "contoso", "main", "demo-pkg", "1.0.0"
STEPS = 6
TIMEOUT = 300  # seconds; a hang guard for a cold pip on a slow machine


class DemoFailed(Exception):
    """A step did not do what the demo promises; the message says which and why."""


def main() -> int:
    try:
        from keyrings.azure_artifacts.testing import FakeAzure
    except ImportError as exc:
        print(
            f"error: cannot import the fake server ({exc}).\n"
            "Install the project with its testing extra first:\n"
            "  python3 -m venv .venv && .venv/bin/python -m pip install -e '.[testing]'",
            file=sys.stderr,
        )
        return 1

    print("Azure Artifacts keyring: offline demo (nothing leaves 127.0.0.1)\n")
    try:
        with tempfile.TemporaryDirectory(prefix="azure-artifacts-demo-") as tmp, FakeAzure() as fake:
            run_demo(fake, Path(tmp))
    except DemoFailed as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as exc:
        command = " ".join(str(part) for part in exc.cmd[1:3])
        print(f"\nDEMO FAILED: python {command} did not finish within {exc.timeout:.0f} s", file=sys.stderr)
        return 1
    return 0


def run_demo(fake: FakeAzure, tmp: Path) -> None:
    step(1, "Start the fake Entra ID + Azure DevOps server")
    fake.add_org(ORG)
    fake.add_feed(ORG, FEED, packages={PACKAGE: [VERSION]})
    index_url = fake.feed_url(ORG, FEED)
    show(f"server      {fake.base_url} (trusts only its own CA: {fake.ca_path})")
    show(f"tenant      {fake.default_tenant}")
    show(f"feed        {ORG}/{FEED} holding {PACKAGE} {VERSION}")
    show(f"index URL   {index_url}")

    step(2, "Write a keyringrc.cfg section for the fake's host")
    config = tmp / "keyringrc.cfg"
    config.write_text(
        "# Our section for a configured host (as for Azure DevOps Server).\n"
        f'[artifacts host="{fake.host}"]\n'
        f"authority_host = {fake.authority_host}\n"
        "auth = session\n",
        encoding="utf-8",
    )
    show(f"{config} (found through KEYRINGS_AZURE_ARTIFACTS_CONFIG):")
    show(textwrap.indent(config.read_text(encoding="utf-8").rstrip(), "  | "))

    step(3, "Create a throwaway service principal at the fake")
    client_id, client_secret = str(uuid.uuid4()), "demo-" + uuid.uuid4().hex
    fake.add_app(client_id, secret=client_secret)
    env = clean_env(tmp, fake.ca_path, config)
    env.update(
        AZURE_TENANT_ID=fake.default_tenant, AZURE_CLIENT_ID=client_id, AZURE_CLIENT_SECRET=client_secret
    )
    show(f"AZURE_TENANT_ID={fake.default_tenant}")
    show(f"AZURE_CLIENT_ID={client_id}")
    show("AZURE_CLIENT_SECRET=(set, not shown)")
    secrets = [client_secret]

    step(4, "Ask the backend what it would do: azure-artifacts-keyring explain URL")
    explain = run([sys.executable, "-m", "keyrings.azure_artifacts", "explain", index_url], env, tmp)
    show(redact(explain.stdout + explain.stderr, secrets).rstrip())
    if explain.returncode != 0:
        raise DemoFailed(f"explain exited {explain.returncode}")

    step(5, f"Install {PACKAGE} with real pip; pip asks keyring after the feed's 401")
    target = tmp / "site"
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--target",
        str(target),
        "--index-url",
        index_url,
        PACKAGE,
    ]
    show("$ python -m pip install --no-deps --target <tmp>/site --index-url " + index_url + " " + PACKAGE)
    installed = run(pip, env, tmp)
    secrets += [record.secret for record in fake.issued()]
    show(redact(installed.stdout + installed.stderr, secrets).rstrip())
    if installed.returncode != 0:
        raise DemoFailed(f"pip exited {installed.returncode} (its output is above)")

    step(6, "What the fake saw (kind of secret and scopes; never the secret)")
    show(f"{'request':<8} {'route':<14} {'status':<6} {'secret':<10} scopes")
    for record in fake.requests:
        scopes = " ".join(record.scopes) or "-"
        show(f"{record.method:<8} {record.route:<14} {record.status:<6} {record.auth_kind:<10} {scopes}")

    check_outcome(fake, target)
    print(
        f"\nOK: pip installed {PACKAGE} {VERSION} through the backend with an Azure DevOps session "
        "token (scope vso.packaging), exchanged for the service principal's Entra token."
    )


def check_outcome(fake: FakeAzure, target: Path) -> None:
    """The package is on disk and every file pip fetched carried a session token."""
    module = target / PACKAGE.replace("-", "_") / "__init__.py"
    if not module.is_file() or f'__version__ = "{VERSION}"' not in module.read_text(encoding="utf-8"):
        raise DemoFailed(f"{PACKAGE} {VERSION} is not in {target}")
    downloads = [r for r in fake.requests if r.route == "download" and r.status == 200]
    if not downloads or any(r.auth_kind != "session" for r in downloads):
        raise DemoFailed("the fake served the wheel without a session token from the backend")


def clean_env(tmp: Path, ca_path: str, config: Path) -> dict[str, str]:
    """Nothing from this machine: temporary HOME/XDG, only the fake's CA, no pip.conf, no proxies."""
    env = {
        name: os.environ[name] for name in ("LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR") if name in os.environ
    }
    dirs = {
        name: tmp / name.lower() for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME")
    }
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    env.update({name: str(path) for name, path in dirs.items()})
    if sys.platform == "win32":
        env["USERPROFILE"] = env["APPDATA"] = env["LOCALAPPDATA"] = env["HOME"]
    env.update(
        # Only this interpreter's scripts: a real `az` elsewhere on PATH stays out of the chain.
        PATH=str(Path(sys.executable).parent),
        KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(config),
        REQUESTS_CA_BUNDLE=ca_path,
        SSL_CERT_FILE=ca_path,
        PIP_CONFIG_FILE=os.devnull,
        PYTHONNOUSERSITE="1",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def run(args: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        env=env,
        cwd=str(cwd),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def redact(text: str, secrets: Sequence[str]) -> str:
    """Belt and braces: the backend never prints a secret, and neither does this demo."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def step(number: int, title: str) -> None:
    print(f"\n[{number}/{STEPS}] {title}", flush=True)


def show(text: str) -> None:
    print(textwrap.indent(text, "    "), flush=True)


if __name__ == "__main__":
    sys.exit(main())
