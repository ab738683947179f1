"""No secret the fake issued (nor the app secret we were given) shows up anywhere but where it is
the answer: every flow runs as real `keyring get` / `azure-artifacts-keyring` processes with
KEYRINGS_AZURE_ARTIFACTS_LOG=debug, and failures are checked in exceptions' str and repr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest
from helpers import APP_ID, APP_SECRET

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.context import Context
from keyrings.azure_artifacts.errors import AzureArtifactsError
from keyrings.azure_artifacts.lookup import obtain
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

BIN = Path(sys.executable).parent


class Run:
    """Environment for processes that use our backend against the fake, and everything they printed."""

    def __init__(self, fake: FakeAzure, clean_env: CleanEnv) -> None:
        self.fake = fake
        self.config = clean_env.config_path
        self.outputs: list[tuple[str, str]] = []
        self.answers: set[str] = set()
        self.env = clean_env.for_lookup(
            ca=fake.ca_path,
            KEYRINGS_AZURE_ARTIFACTS_CONFIG=str(self.config),
            KEYRINGS_AZURE_ARTIFACTS_LOG="debug",
            CI="1",
        )

    def configure(self, extra: str = "") -> None:
        f = self.fake
        self.config.write_text(f'[artifacts host="{f.host}"]\nauthority_host = {f.base_url}\n{extra}')

    def service_principal(self) -> dict[str, str]:
        return {
            "AZURE_TENANT_ID": self.fake.default_tenant,
            "AZURE_CLIENT_ID": APP_ID,
            "AZURE_CLIENT_SECRET": APP_SECRET,
        }

    def run(self, args: list[str], env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            args,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        self.outputs.append((f"{args[0]} {args[1]} stderr", done.stderr))
        return done

    def get(self, url: str, env: Optional[dict[str, str]] = None) -> Optional[str]:
        """`keyring get URL user`: stdout is the password and nothing else."""
        done = self.run([str(BIN / "keyring"), "get", url, "someone"], env)
        answer = done.stdout.rstrip("\n")
        if done.returncode == 0 and answer:
            assert "\n" not in answer
            self.answers.add(answer)
            return answer
        self.outputs.append(("keyring get stdout", done.stdout))
        return None

    def cli(self, *args: str, env: Optional[dict[str, str]] = None) -> None:
        done = self.run([str(BIN / "azure-artifacts-keyring"), *args], env)
        self.outputs.append((f"azure-artifacts-keyring {args[0]} stdout", done.stdout))

    def assert_no_secret_leaked(self) -> None:
        secrets = {r.secret for r in self.fake.issued()} | {APP_SECRET, self.fake.cli_client_secret}
        assert len(secrets) > 2, "the flows should have issued secrets"
        for where, text in self.outputs:
            for secret in secrets:
                assert secret not in text, f"a secret issued by the fake appears in {where}"
        assert any("azure-artifacts: " in text for _, text in self.outputs), "debug logging did not run"


@pytest.fixture
def runner(fake: FakeAzure, clean_env: CleanEnv) -> Run:
    return Run(fake, clean_env)


def test_every_flow_with_debug_logging_leaks_nothing(fake: FakeAzure, runner: Run) -> None:
    url = fake.feed_url("contoso", "main")
    upload = fake.upload_url("contoso", "main")
    sp = runner.service_principal()
    for auth in ("session", "bearer"):
        runner.configure(f"auth = {auth}\n")
        assert runner.get(url, sp)  # cold
        assert runner.get(url, sp)  # warm / reused
        runner.cli("explain", url, env=sp)
    # PATs need a person (the PAT API refuses service principals): one device-code sign-in.
    fake.device_user(approve_after_polls=1)
    person = {"CI": ""}
    runner.configure("auth = pat\ninteractive = always\n")
    assert runner.get(url, person)  # cold: signs in, creates a PAT
    assert runner.get(url, person)  # reused
    assert runner.get(upload, person)  # a second PAT, with the write scope
    runner.cli("explain", url, env=person)
    runner.cli("explain", url, "--json", env=sp)
    runner.cli("status")
    runner.cli("status", "--json")
    runner.cli("logout", "--all", "--revoke", env=person)
    # Static PAT and token service failures take other paths through the code.
    runner.configure()
    static = fake.issued("pat")[0].secret
    assert runner.get(url, {"AZURE_DEVOPS_EXT_PAT": static}) == static
    fake.inject("session_token", status=500, times=10)
    runner.configure("timeout = 1\n")
    assert runner.get(url, sp) is None
    assert runner.get(url, {**sp, "AZURE_CLIENT_SECRET": "wrong-" + APP_SECRET}) is None
    runner.assert_no_secret_leaked()
    # What keyring printed on stdout was exactly a secret the fake issued (nothing else there).
    issued = {r.secret for r in fake.issued()}
    assert runner.answers <= issued


def test_device_code_sign_in_leaks_nothing(fake: FakeAzure, runner: Run) -> None:
    fake.device_user(approve_after_polls=1)
    runner.configure("interactive = always\n")
    url = fake.feed_url("contoso", "main")
    env = {k: "" for k in ("CI",)}
    assert runner.get(url, env)
    assert any("enter the code" in text for _, text in runner.outputs)
    runner.configure("interactive = never\n")
    runner.cli("logout", url)
    assert runner.get(url, env)  # silently, from the persisted MSAL cache
    assert fake.count("devicecode") == 1
    runner.assert_no_secret_leaked()


def _secret_free(exc: BaseException, secrets: set[str]) -> bool:
    seen: Optional[BaseException] = exc
    while seen is not None:
        for text in (str(seen), repr(seen), repr(seen.args)):
            if any(s in text for s in secrets):
                return False
        seen = seen.__cause__ or seen.__context__
    return True


BODIES = [
    lambda t: (200, b'{"token": "' + t.encode() + b'", "validT'),
    lambda t: (200, b"<html>" + t.encode() + b"</html>"),
    lambda t: (400, b'{"message": "bad request for Bearer ' + t.encode() + b'"}'),
    lambda t: (401, b'{"message": "' + t.encode() + b' is not valid"}'),
    lambda t: (500, t.encode()),
]


@pytest.mark.parametrize("make", BODIES)
def test_errors_do_not_carry_secrets(
    fake: FakeAzure, clean_env: CleanEnv, make: object, capfd: pytest.CaptureFixture[str]
) -> None:
    """A token service that echoes a secret back: the exception we raise does not repeat it."""
    env = clean_env.for_lookup(
        f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\ntimeout = 1\n',
        ca=fake.ca_path,
        CI="1",
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
    )
    echoed = fake.access_token(client_id=APP_ID)
    status, body = make(echoed)  # type: ignore[operator]
    fake.inject("session_token", status=status, body=body, content_type="application/json", times=10)
    resolution = service.resolve(fake.feed_url("contoso", "main"), env)
    assert resolution is not None
    secrets = {r.secret for r in fake.issued()} | {APP_SECRET}
    if status in (400, 401):
        # A service principal whose exchange is refused hands over its Entra token instead, and the
        # refusal it remembers (state dir) names no secret either.
        assert obtain(resolution, Context(env)).kind == "bearer"
        secrets = {r.secret for r in fake.issued() if r.kind != "access"} | {APP_SECRET, echoed}
        remembered = (clean_env.state_dir / "exchange_refusals.json").read_text()
        assert "refused" in remembered or "HTTP" in remembered
        assert not any(s in remembered for s in secrets)
        secrets.discard(echoed)  # the password itself is in the secret cache, never on stderr
    else:
        with pytest.raises(AzureArtifactsError) as info:
            obtain(resolution, Context(env))
        assert _secret_free(info.value, secrets), str(info.value)
        assert service.lookup(fake.feed_url("contoso", "main"), None, environ=env) is None
    out, err = capfd.readouterr()
    assert not any(s in out + err for s in secrets)
