"""Fake ``az`` and ``azd`` executables that get real tokens from a running fake.

azure-identity's AzureCliCredential and AzureDeveloperCliCredential run these
and parse their stdout; the tokens come from the fake's token endpoint (a
pre-registered confidential app), so the fake feed accepts them.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

_SCRIPT = r'''#!{python}
"""Fake {name} for tests: talks to the fake Entra ID at {base_url}."""
import json, os, ssl, sys, time, urllib.error, urllib.parse, urllib.request
from datetime import datetime, timezone

BASE_URL = {base_url!r}
CA_PATH = {ca_path!r}
CLIENT_ID = {client_id!r}
CLIENT_SECRET = {client_secret!r}
DEFAULT_TENANT = {tenant!r}
RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
NAME = {name!r}


def option(args, *names):
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def fail(message, code=1):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def get_token(tenant, scope):
    data = urllib.parse.urlencode({{
        "grant_type": "client_credentials", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "scope": scope,
    }}).encode()
    context = ssl.create_default_context(cafile=os.environ.get("FAKE_AZURE_CA", CA_PATH))
    url = os.environ.get("FAKE_AZURE_URL", BASE_URL) + "/" + tenant + "/oauth2/v2.0/token"
    try:
        with urllib.request.urlopen(url, data=data, timeout=10, context=context) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = json.loads(error.read() or b"{{}}")
        fail("ERROR: " + body.get("error_description", str(error)))
    except OSError as error:
        fail("ERROR: cannot reach the token endpoint: " + str(error))


def az(args):
    if args[:1] in (["--version"], ["version"]):
        print(json.dumps({{"azure-cli": "2.99.0-fake"}}))
        return
    if args[:2] != ["account", "get-access-token"]:
        fail("ERROR: the fake az supports only 'account get-access-token'", 2)
    if os.environ.get("FAKE_AZ_LOGGED_OUT"):
        fail("ERROR: Please run 'az login' to setup account.")
    resource = option(args, "--resource")
    scope = option(args, "--scope") or ((resource or RESOURCE).rstrip("/") + "/.default")
    tenant = option(args, "--tenant", "-t") or DEFAULT_TENANT
    token = get_token(tenant, scope)
    expires_on = int(time.time()) + int(token["expires_in"])
    print(json.dumps({{
        "accessToken": token["access_token"],
        "expiresOn": datetime.fromtimestamp(expires_on).strftime("%Y-%m-%d %H:%M:%S.%f"),
        "expires_on": expires_on,
        "subscription": "00000000-0000-0000-0000-00000000f4ce",
        "tenant": tenant,
        "tokenType": "Bearer",
    }}, indent=2))


def azd(args):
    if args[:1] in (["version"], ["--version"]):
        print("azd version 1.99.0 (fake)")
        return
    if args[:2] != ["auth", "token"]:
        fail("ERROR: the fake azd supports only 'auth token'", 2)
    if os.environ.get("FAKE_AZD_LOGGED_OUT"):
        fail("ERROR: not logged in, run `azd auth login` to login")
    scope = option(args, "--scope") or RESOURCE + "/.default"
    tenant = option(args, "--tenant-id") or DEFAULT_TENANT
    token = get_token(tenant, scope)
    expires_on = int(time.time()) + int(token["expires_in"])
    stamp = datetime.fromtimestamp(expires_on, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({{"token": token["access_token"], "expiresOn": stamp}}))


(az if NAME == "az" else azd)(sys.argv[1:])
'''


def write_cli_scripts(
    bin_dir: Path,
    *,
    base_url: str,
    ca_path: str,
    client_id: str,
    client_secret: str,
    tenant: str,
) -> list[Path]:
    """Write executable ``az`` and ``azd`` into ``bin_dir`` (and ``.cmd`` wrappers on Windows); returns their paths."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("az", "azd"):
        path = bin_dir / name
        path.write_text(
            _SCRIPT.format(
                python=sys.executable,
                name=name,
                base_url=base_url,
                ca_path=ca_path,
                client_id=client_id,
                client_secret=client_secret,
                tenant=tenant,
            )
        )
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(path)
        if sys.platform == "win32":  # the real CLIs are az.cmd / azd.exe; a .cmd is found through PATHEXT
            wrapper = bin_dir / f"{name}.cmd"
            wrapper.write_bytes(f'@"{sys.executable}" "%~dp0{name}" %*\r\n'.encode())
            written.append(wrapper)
    return written


__all__ = ["write_cli_scripts"]
