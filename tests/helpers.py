"""What tests import (test modules never import from conftest or from each other): the clean
environment, the in-process CLI runner, our log records, markers, the service principal of the
shared `fake` fixture, a signed-in person (PatWorld), credential-flow options, stored PATs and an
in-memory keyring, and the two-fakes world of the token-routing tests. conftest.py turns these
into fixtures.

Importable as `helpers` wherever conftest.py is: pytest's default (prepend) import mode puts the
first directory without an `__init__.py` above each test module and conftest (here `tests/`) on
sys.path, under plain pytest, pytest-xdist workers and tox alike.
"""

from __future__ import annotations

import http.server
import json
import logging
import os
import ssl
import sys
import textwrap
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest
from keyring.errors import KeyringLocked

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts._log import LOGGER_NAME
from keyrings.azure_artifacts.cache import cache_key
from keyrings.azure_artifacts.context import Context
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.lookup import obtain
from keyrings.azure_artifacts.pat.policy import StoredPat
from keyrings.azure_artifacts.testing import FakeAzure

# The service principal the shared `fake` fixture registers (client secret flow).
APP_ID = "0f0f0f0f-0000-4000-8000-00000000f001"
APP_SECRET = "fake-app-secret-Zq8xW2"

VENV_BIN = Path(sys.executable).parent
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE", "PIP_CERT")
# Kept from the machine; everything else (PIP_*, UV_*, AZURE_*, the CA variables, proxies, CI,
# PYTHON_KEYRING_BACKEND, DISPLAY, ...) is dropped so no test depends on who runs it.
_KEEP = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TZ",
    "SYSTEMROOT",
    "COMSPEC",
    "PATHEXT",
    "WINDIR",
    "TEMP",
    "TMP",
)
# Tests of POSIX permission bits, owners or `#!` scripts: Windows has none of them.
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits, owners or #! scripts")


class CleanEnv:
    """An environment built from scratch under one test's tmp_path.

    Own HOME and XDG directories, PATH = an empty tmp bin directory (for wrappers a test
    adds) + this interpreter's bin (python, pip, keyring, uv, twine; no `az`, which the auto
    chain would try), no pip/uv configuration from the machine, loopback never proxied, and
    no CA variable unless `ca` is given (then the CA of the fake in every variable a client
    reads). The same dict serves a subprocess and an in-process `service.lookup(..., environ)`.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin_dir = root / "bin"
        self.home = root / "home"
        self.config_path = root / "keyringrc.cfg"
        self.state_dir = root / "state"
        # Where keyring itself looks for keyringrc.cfg on Linux: XDG_CONFIG_HOME/python_keyring.
        self.keyring_config = root / "config" / "python_keyring" / "keyringrc.cfg"

    def __call__(
        self, config: Optional[str] = None, *, ca: Optional[str] = None, **extra: str
    ) -> dict[str, str]:
        """The environment; `config` (text) is written to keyringrc.cfg and named by
        KEYRINGS_AZURE_ARTIFACTS_CONFIG, `extra` variables go on top."""
        dirs = {name: self.root / name for name in ("config", "data", "cache", "appdata", "localappdata")}
        for directory in (self.bin_dir, self.home, *dirs.values()):
            directory.mkdir(parents=True, exist_ok=True)
        env = {name: os.environ[name] for name in _KEEP if name in os.environ}
        env.update(
            PATH=os.pathsep.join([str(self.bin_dir), str(VENV_BIN)]),
            HOME=str(self.home),
            USERPROFILE=str(self.home),  # Windows: the home directory, and keyring's and pip's roots
            APPDATA=str(dirs["appdata"]),
            LOCALAPPDATA=str(dirs["localappdata"]),
            XDG_CONFIG_HOME=str(dirs["config"]),
            XDG_DATA_HOME=str(dirs["data"]),
            XDG_CACHE_HOME=str(dirs["cache"]),
            PIP_CONFIG_FILE=os.devnull,
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PYTHONNOUSERSITE="1",
            PYTHONDONTWRITEBYTECODE="1",
            UV_NO_CONFIG="1",
            UV_CACHE_DIR=str(dirs["cache"] / "uv"),
            UV_PYTHON_DOWNLOADS="never",
            UV_NO_PROGRESS="1",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
        )
        if ca is not None:
            env.update(REQUESTS_CA_BUNDLE=ca, SSL_CERT_FILE=ca, PIP_CERT=ca)
        if config is not None:
            self.config_path.write_text(config, encoding="utf-8")
            env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"] = str(self.config_path)
        env.update(extra)
        return env

    def for_lookup(
        self, config: Optional[str] = None, *, ca: Optional[str] = None, **extra: str
    ) -> dict[str, str]:
        """The same, for an in-process `service.lookup(url, user, environ)`: plus our state
        directory under root (the default is keyring's data root, which reads os.environ)."""
        return self(config, ca=ca, **{"KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(self.state_dir), **extra})

    def install(self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
        """Make os.environ exactly `env` for this test (requests and azure-core read os.environ)."""
        for name in list(os.environ):
            if name not in env:
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`azure-artifacts-keyring ARGV` in this process: (exit code, stdout, stderr)."""
    from keyrings.azure_artifacts import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class Logged:
    """The messages our logger emitted during the test (read from caplog, at the logger's level)."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    def lines(self, level: int = logging.NOTSET) -> list[str]:
        return [r.getMessage() for r in self.caplog.records if r.name == LOGGER_NAME and r.levelno >= level]

    def warnings(self) -> list[str]:
        """What pip and uv users see on stderr."""
        return self.lines(logging.WARNING)


@dataclass
class PatWorld:
    """The fake, a config for it and a person signed in once (device code, cached by MSAL): the PAT
    lifecycle API refuses service principals and managed identities, so PATs need a user."""

    fake: FakeAzure
    tmp: Path
    env: dict[str, str]

    def configure(self, body: str) -> None:
        config = Path(self.env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
        head = f'[artifacts host="{self.fake.host}"]\nauthority_host = {self.fake.base_url}\ncredential = shared_cache\n'
        config.write_text(head + textwrap.dedent(body))

    def advance(self, seconds: int) -> None:
        """Move the fake's clock; MSAL judges its cached access token by the real clock, so it is
        marked expired too (the refresh token, valid for 90 days, gets a new one)."""
        self.fake.advance(seconds)
        cache = Path(self.env["KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"]) / "msal_token_cache.bin"
        data = json.loads(cache.read_text())
        for entry in data.get("AccessToken", {}).values():
            entry["expires_on"] = entry["extended_expires_on"] = "0"
        cache.write_text(json.dumps(data))

    def sign_out(self) -> None:
        """The person's sign-in expires: no flow can get a token any more. The account stays in
        the MSAL cache, as after a real expiry (it still chooses the PAT's key)."""
        for issued in self.fake.issued("refresh"):
            self.fake.revoke(issued.secret)
        path = Path(self.env["KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"]) / "msal_token_cache.bin"
        data = json.loads(path.read_text())
        for entry in data.get("AccessToken", {}).values():
            entry["expires_on"] = str(int(time.time()) - 10)
        path.write_text(json.dumps(data))
        later = time.time() + 5  # msal-extensions reloads when the file's mtime moves on
        os.utime(path, (later, later))

    def url(self, org: str = "contoso", feed: str = "main") -> str:
        return self.fake.feed_url(org, feed)

    def context(self, env: Optional[Mapping[str, str]] = None) -> Context:
        return Context(self.env if env is None else env, now=self.fake.now)

    def secret(self, url: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
        """One lookup the way the backend does it, with the fake's clock (a fresh context each time)."""
        env = self.env if env is None else env
        resolution = service.resolve(url or self.url(), env)
        assert resolution is not None and not resolution.errors, resolution and resolution.errors
        return obtain(resolution, self.context(env)).secret

    def subprocess_env(self) -> dict[str, str]:
        """What real pip / twine / python get: the same clean environment (clean_env)."""
        return dict(self.env)


def sign_in(fake: FakeAzure, env: Mapping[str, str], username: str = "user@contoso.com") -> None:
    """A person signs in once with a device code (the fake approves it at the first poll); later
    lookups, in this process or another, find the account in the MSAL cache under the state dir."""
    from keyrings.azure_artifacts.credentials.base import FlowOptions
    from keyrings.azure_artifacts.credentials.chain import build_flow
    from keyrings.azure_artifacts.microsoft import ADO_SCOPE

    fake.device_user(approve_after_polls=1, username=username)
    options = FlowOptions(
        org="contoso", tenant=fake.default_tenant, authority_host=fake.authority_host, timeout=10.0,
        interactive=True, state_dir=Path(env["KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"]), environ=env,
        interactive_timeout=30.0,
    )  # fmt: skip
    build_flow("device_code", options).get_token(ADO_SCOPE)


def make_world(fake: FakeAzure, clean_env: CleanEnv) -> PatWorld:
    env = clean_env.for_lookup("", ca=fake.ca_path)
    sign_in(fake, env)
    world = PatWorld(fake, clean_env.root, env)
    world.configure("auth = pat\n")
    return world


# -- credential flows against the fake ------------------------------------------------------------


def options(fake: FakeAzure, environ: dict[str, str], **kw: object) -> FlowOptions:
    values: dict[str, object] = {
        "org": "contoso",
        "tenant": fake.default_tenant,
        "authority_host": fake.authority_host,
        "timeout": 5.0,
        "environ": environ,
    }
    values.update(kw)
    return FlowOptions(**values)  # type: ignore[arg-type]


def token_via(name: str, opts: FlowOptions) -> str:
    from keyrings.azure_artifacts.credentials import chain
    from keyrings.azure_artifacts.microsoft import ADO_SCOPE

    return chain.build_flow(name, opts).get_token(ADO_SCOPE).token


# -- PATs: a stored one at a fixed clock, and an in-memory keyring --------------------------------

DAY = 86400
NOW = 1_800_000_000
KEY = cache_key(kind="pat", org="contoso", feed="main")


def pat(
    expires_in: float, lifetime: int = 30 * DAY, scopes: tuple[str, ...] = ("vso.packaging",)
) -> StoredPat:
    expires_at = int(NOW + expires_in)
    return StoredPat(
        secret="s3cr3t-pat-value",
        authorization_id="auth-1",
        created_at=expires_at - lifetime,
        expires_at=expires_at,
        scopes=scopes,
        host="pkgs.dev.azure.com",
        org="contoso",
        project=None,
        feed="main",
        vssps_url="https://vssps.dev.azure.com/contoso",
        display_name="keyrings.azure-artifacts on box for contoso/main",
        username="VssSessionToken",
        service="https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
    )


class MemoryKeyring:
    """A storage backend for tests (keyring's contract, duck-typed)."""

    priority = 5

    def __init__(self, locked: bool = False) -> None:
        self.locked = locked
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> Optional[str]:
        if self.locked:
            raise KeyringLocked("collection is locked")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("collection is locked")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


# -- where tokens go: two fakes and scripted servers behind one CA bundle (`two_fakes` fixture) ----

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
NO_PROXY_VARS = ("NO_PROXY", "no_proxy")
Answer = tuple[int, list[tuple[str, str]]]


@dataclass
class Seen:
    method: str
    path: str
    authorization: Optional[str]


@dataclass
class Scripted:
    """A tiny HTTPS (or plain HTTP) server answering from a script and logging what it was sent."""

    script: Callable[[str, str], Answer]
    seen: list[Seen] = field(default_factory=list)
    base_url: str = ""
    host: str = ""


def serve_scripted(scripted: Scripted, context: Optional[ssl.SSLContext]) -> Callable[[], None]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            scripted.seen.append(Seen(self.command, self.path, self.headers.get("Authorization")))
            status, headers = scripted.script(self.command, self.path)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_DELETE = do_HEAD = do_CONNECT = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    scripted.host = f"127.0.0.1:{server.server_address[1]}"
    scripted.base_url = f"{'https' if context else 'http'}://{scripted.host}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


def without_proxy_settings(env: dict[str, str]) -> dict[str, str]:
    """clean_env exempts loopback from proxies; these tests set HTTPS_PROXY / NO_PROXY themselves."""
    return {name: value for name, value in env.items() if name not in (*PROXY_VARS, *NO_PROXY_VARS)}


@dataclass
class World:
    fake: FakeAzure
    other: FakeAzure
    clean_env: CleanEnv
    bundle: str
    context: ssl.SSLContext
    stops: list[Callable[[], None]] = field(default_factory=list)

    def scripted(self, script: Callable[[str, str], Answer], tls: bool = True) -> Scripted:
        server = Scripted(script)
        self.stops.append(serve_scripted(server, self.context if tls else None))
        return server

    def env(self, config: str) -> dict[str, str]:
        """A CI job with a service principal, for an in-process lookup."""
        env = self.clean_env.for_lookup(
            config,
            ca=self.bundle,
            CI="1",
            AZURE_TENANT_ID=self.fake.default_tenant,
            AZURE_CLIENT_ID=APP_ID,
            AZURE_CLIENT_SECRET=APP_SECRET,
        )
        return without_proxy_settings(env)


def fake_section(fake: FakeAzure, extra: str = "") -> str:
    return f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{extra}'
