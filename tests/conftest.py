"""What every test shares: a clean environment, the fake, our log records in caplog, hypothesis
profiles. Fixtures only; what tests import lives in helpers.py."""

from __future__ import annotations

import os
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from helpers import APP_ID, APP_SECRET, CleanEnv, Logged, PatWorld, World, make_world, without_proxy_settings
from hypothesis import settings

from keyrings.azure_artifacts._log import get_logger
from keyrings.azure_artifacts.testing import FakeAzure

pytest_plugins = ["keyrings.azure_artifacts.testing.fixtures"]

# Property tests: modest by default so the suite stays fast; HYPOTHESIS_PROFILE=fuzz for a long run.
# Under CI the examples are derived from each test's name (derandomize), so a red build can be
# reproduced by running the same commit again; locally they stay random to keep finding new cases.
settings.register_profile("dev", max_examples=300, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True, database=None)
settings.register_profile("fuzz", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def clean_env(tmp_path: Path) -> CleanEnv:
    """Build environments with nothing from this machine: `clean_env(config, ca=fake.ca_path, X=...)`."""
    return CleanEnv(tmp_path)


@pytest.fixture
def fake(fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """The fake (org `contoso`, feed `main` with demo-pkg 1.0.0) with the service principal
    helpers.APP_ID / APP_SECRET, and os.environ clean but for its CA: no identity variable, so
    nothing probes 169.254.169.254. A test file that needs more overrides `fake` and asks for it."""
    fake_azure.add_app(APP_ID, secret=APP_SECRET)
    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path))
    return fake_azure


@pytest.fixture
def world(fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch) -> PatWorld:
    """A person signed in to the fake, `auth = pat` (helpers.PatWorld); os.environ clean but for
    the fake's CA (requests and azure-core read it). In this process PATs go to the 0600 file,
    never to the developer's own OS keyring; the subprocesses get no D-Bus session, so they find
    no other backend either."""
    clean_env.install(monkeypatch, clean_env(ca=fake_azure.ca_path))
    monkeypatch.setattr("keyrings.azure_artifacts.pat.store.installed_backends", list)
    return make_world(fake_azure, clean_env)


@pytest.fixture
def two_fakes(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> Iterator[World]:
    """helpers.World: two fakes (each with org `contoso`, feed `main`, the service principal) and
    room for scripted servers, trusted through one CA bundle; os.environ is clean
    but for that bundle (requests reads it, and the proxy variables the tests set)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeAzure() as fake, FakeAzure() as other:
        for server in (fake, other):
            server.add_org("contoso")
            server.add_feed("contoso", "main")
            server.add_app(APP_ID, secret=APP_SECRET)
        bundle = clean_env.root / "bundle.pem"
        bundle.write_bytes(
            Path(fake.ca_path).read_bytes() + Path(other.ca_path).read_bytes() + ca.cert_pem.bytes()
        )
        clean_env.install(monkeypatch, without_proxy_settings(clean_env(ca=str(bundle))))
        w = World(fake, other, clean_env, str(bundle), context)
        yield w
        for stop in w.stops:
            stop()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, clean_env: CleanEnv) -> CleanEnv:
    """For tests that call `cli.main`, which reads os.environ: nothing from this machine, own
    HOME, XDG and state directories."""
    clean_env.install(monkeypatch, clean_env(KEYRINGS_AZURE_ARTIFACTS_STATE_DIR=str(clean_env.state_dir)))
    return clean_env


@pytest.fixture(autouse=True)
def _our_log_records_reach_caplog(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Our logger does not propagate: a host tool's root handlers (pip's) would print every line
    a second time, INFO and DEBUG to stdout. In tests it propagates, so `caplog` sees its records;
    what it writes to stderr is the same either way (test_backend checks the real setting)."""
    monkeypatch.setattr(get_logger(), "propagate", True)
    yield


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Logged:
    return Logged(caplog)


# What a lookup that must finish at once may not do: connect anywhere or start a program.
# Evidence for "fails fast" without a stopwatch (a loaded runner makes wall-clock bounds flaky,
# and a fast machine makes them prove nothing).
SLOW_EVENTS = ("socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.posix_spawn")
_recording: list[list[str]] = []
_hook_installed = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _recording and event in SLOW_EVENTS:
        for sink in _recording:
            sink.append(f"{event} {args[1] if event == 'socket.connect' else args[0]!r}")


@pytest.fixture
def outside_calls() -> Iterator[list[str]]:
    """Every connect, name lookup and program start this process makes during the test."""
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # audit hooks cannot be removed: one, switched by _recording
        _hook_installed = True
    sink: list[str] = []
    _recording.append(sink)
    try:
        yield sink
    finally:
        _recording.remove(sink)
