"""`auth = pat` against the fake Entra ID + Azure DevOps: create once, reuse, rotate, revoke,
one PAT for many concurrent processes, and real pip / twine through the backend."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from helpers import PatWorld, sign_in

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.app import App
from keyrings.azure_artifacts.testing import FakeAzure, build_wheel, wheel_filename

if TYPE_CHECKING:
    pass

DAY = 86400
TIMEOUT = 120


def works_at_feed(fake: FakeAzure, url: str, secret: str) -> bool:
    response = requests.get(url, auth=("VssSessionToken", secret), verify=fake.ca_path, timeout=10)
    return response.status_code == 200


def test_first_lookup_creates_one_pat_then_reuses_it(world: PatWorld) -> None:
    world.configure("auth = pat\npat_duration = 90d\nscopes = vso.packaging\n")
    fake = world.fake
    first = world.secret()
    assert first and works_at_feed(fake, world.url(), first)
    assert fake.count("pat_create") == 1
    (issued,) = fake.issued("pat")
    assert issued.scopes == ("vso.packaging",)
    assert abs(issued.expires_at - (fake.now() + 90 * DAY)) < 120
    assert "keyrings.azure-artifacts" in issued.display_name
    assert socket.gethostname() in issued.display_name and "contoso" in issued.display_name

    assert world.secret() == first
    assert service.lookup(world.url(), None, world.env) == ("VssSessionToken", first)
    assert fake.count("pat_create") == 1


def test_explain_reports_the_stored_pat(world: PatWorld) -> None:

    assert App(dict(world.env)).explain(world.url()).report["cache"] == {
        "kind": None,
        "expires_at": None,
        "identity": None,
    }
    secret = world.secret()
    report = App(dict(world.env)).explain(world.url()).report
    assert report["cache"]["kind"] == "pat" and report["cache"]["expires_at"].endswith("Z")
    assert secret not in json.dumps(report)


def test_every_auth_mode_peeks_and_forgets_what_it_holds(world: PatWorld) -> None:
    """The auth-mode protocol: `peek` says what a lookup would reuse (no request), `forget` drops
    what the mode keeps for the feed; `explain`, `doctor` and `logout` ask the mode, whatever it is."""
    from keyrings.azure_artifacts.modes import every_mode, mode_for
    from keyrings.azure_artifacts.signin import SignIn

    def signin() -> SignIn:
        resolution = service.resolve(world.url(), world.env)
        assert resolution is not None
        return SignIn(resolution, world.context())

    assert [mode.kind for mode in every_mode()] == ["bearer", "session", "pat"]
    assert all(mode_for(mode.kind).kind == mode.kind for mode in every_mode())
    assert [mode.peek(signin()) for mode in every_mode()] == [None, None, None]
    world.secret()
    (issued,) = world.fake.issued("pat")
    held = mode_for("pat").peek(signin())
    assert held is not None and held.kind == "pat" and abs(held.expires_at - issued.expires_at) < 2
    assert mode_for("session").peek(signin()) is None  # a PAT is not in the secret cache
    assert [mode.forget(signin(), False) for mode in every_mode()] == [False, False, True]
    assert mode_for("pat").peek(signin()) is None and not world.fake.lookup(issued.secret).revoked

    world.configure("auth = session\n")
    world.secret()
    held = mode_for("session").peek(signin())
    assert held is not None and held.kind == "session" and held.identity.get("upn") == "user@contoso.com"
    assert mode_for("pat").peek(signin()) is None
    assert any(mode.forget(signin(), False) for mode in every_mode())
    assert mode_for("session").peek(signin()) is None


def test_inside_renew_window_rotates_then_revokes_the_old_one(world: PatWorld) -> None:
    fake = world.fake
    old = world.secret()
    (old_record,) = fake.issued("pat")
    world.advance(28 * DAY)  # default pat_duration 30d, pat_renew_before 3d
    new = world.secret()
    assert new and new != old
    assert fake.count("pat_create") == 2
    assert fake.count("pat_revoke", status=204) == 1
    assert old_record.revoked
    assert works_at_feed(fake, world.url(), new)
    assert world.secret() == new and fake.count("pat_create") == 2


def test_expired_pat_is_replaced_without_revoking(world: PatWorld) -> None:
    fake = world.fake
    old = world.secret()
    world.advance(31 * DAY)
    assert world.secret() not in (None, old)
    assert fake.count("pat_create") == 2 and fake.count("pat_revoke") == 0


def test_rotation_that_cannot_sign_in_keeps_the_valid_pat(
    world: PatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = world.fake
    old = world.secret()
    world.advance(28 * DAY)
    world.sign_out()
    assert world.secret() == old
    assert fake.count("pat_create") == 1


def test_upload_url_never_gets_a_read_scoped_pat(world: PatWorld) -> None:
    world.configure("auth = pat\nscopes = vso.packaging\n")
    fake = world.fake
    read = world.secret()
    upload = world.secret(fake.upload_url("contoso", "main"))
    assert read and upload and read != upload
    scopes = {r.secret: r.scopes for r in fake.issued("pat")}
    assert scopes[read] == ("vso.packaging",)
    assert scopes[upload] == ("vso.packaging_write",)


def test_delete_password_revokes_and_forgets(world: PatWorld) -> None:
    fake = world.fake
    world.secret()
    assert service.forget(world.url(), world.env)
    assert fake.count("pat_revoke", status=204) == 1
    assert all(r.revoked for r in fake.issued("pat"))
    assert world.context().pat_store().entries() == []
    world.secret()
    assert fake.count("pat_create") == 2


def test_compatibility_variables_choose_pat_duration_and_scope(world: PatWorld) -> None:
    world.configure("")  # no auth option: the environment decides
    env = {
        **world.env,
        "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN": "false",
        "AZURE_DEVOPS_PAT_DURATION": "7",
        "AZURE_DEVOPS_PAT_SCOPE": "vso.packaging_write",
    }
    assert world.secret(env=env)
    (issued,) = world.fake.issued("pat")
    assert issued.scopes == ("vso.packaging_write",)
    assert abs(issued.expires_at - (world.fake.now() + 7 * DAY)) < 120


PROBE = "import hashlib, sys, keyring; s = keyring.get_password(sys.argv[1], 'VssSessionToken'); print(hashlib.sha256(s.encode()).hexdigest() if s else 'NONE')"


def test_eight_cold_processes_create_exactly_one_pat(world: PatWorld) -> None:
    env = world.subprocess_env()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, world.url()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    assert world.fake.count("pat_create") == 1
    assert len(set(outputs)) == 1 and outputs[0] != "NONE"


# -- real pip and twine through the backend ----------------------------------------------------------


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result


def pip_install(world: PatWorld, args: list[str]) -> Path:
    target = world.tmp / "target"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            *args,
        ],
        world.subprocess_env(),
    )
    return target


@pytest.mark.e2e
def test_pip_installs_with_a_pat(world: PatWorld) -> None:
    target = pip_install(world, ["--index-url", world.url(), "demo-pkg==1.0.0"])
    assert (target / "demo_pkg" / "__init__.py").exists()
    fake = world.fake
    assert fake.count("pat_create") == 1
    assert fake.count("download", auth_kind="pat", status=200) >= 1


@pytest.mark.e2e
def test_twine_uploads_with_a_pat(world: PatWorld) -> None:
    dist = world.tmp / "dist"
    dist.mkdir()
    wheel = dist / wheel_filename("uploaded-pkg", "2.0.0")
    wheel.write_bytes(build_wheel("uploaded-pkg", "2.0.0"))
    upload = world.fake.upload_url("contoso", "main")
    run(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--non-interactive",
            "--repository-url",
            upload,
            str(wheel),
        ],
        world.subprocess_env(),
    )
    fake = world.fake
    assert ("uploaded-pkg", "2.0.0") in fake.packages("contoso", "main")
    assert fake.count("upload", auth_kind="pat", status=200) == 1
    (issued,) = fake.issued("pat")
    assert issued.scopes == ("vso.packaging_write",)


@pytest.mark.e2e
def test_one_pip_run_mixes_a_bearer_feed_and_a_pat_feed(
    world: PatWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Org alpha (`auth = bearer`) and org beta (`auth = pat`) in one config and one pip run.

    The two orgs are served on two ports: pip keeps one credential per host and would send
    alpha's secret to beta without asking keyring again when both share a host.
    """
    fake = world.fake
    fake.add_feed("alpha", "a-feed", packages={"only-in-a": ["1.0.0"]})
    with FakeAzure(default_tenant="0d0d0d0d-0000-4000-8000-0000000000b2") as other:
        other.add_feed("beta", "b-feed", packages={"only-in-b": ["1.0.0"]})
        bundle = world.tmp / "both-cas.pem"
        bundle.write_text(Path(fake.ca_path).read_text() + Path(other.ca_path).read_text())
        world.env.update(REQUESTS_CA_BUNDLE=str(bundle), SSL_CERT_FILE=str(bundle), PIP_CERT=str(bundle))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
        sign_in(other, world.env, username="beta-user@fabrikam.com")
        Path(world.env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"]).write_text(
            f'[artifacts host="{fake.host}" org="alpha"]\nauthority_host = {fake.base_url}\n'
            "credential = shared_cache\nauth = bearer\n"
            f'[artifacts host="{other.host}" org="beta"]\nauthority_host = {other.base_url}\n'
            "credential = shared_cache\nauth = pat\n"
        )
        a, b = fake.feed_url("alpha", "a-feed"), other.feed_url("beta", "b-feed")
        target = pip_install(world, ["--index-url", a, "--extra-index-url", b, "only-in-a", "only-in-b"])
        assert (target / "only_in_a").is_dir() and (target / "only_in_b").is_dir()
        assert fake.count("download", org="alpha", auth_kind="entra", status=200) == 1
        assert other.count("download", org="beta", auth_kind="pat", status=200) == 1
        for route in ("simple", "download"):  # the token service sees Entra tokens, feeds must not
            assert fake.count(route, auth_kind="pat") == 0 and other.count(route, auth_kind="entra") == 0
        assert fake.issued("pat") == [] and fake.count("pat_create") == 0
        assert [r.org for r in other.issued("pat")] == ["beta"]


def test_a_refused_pat_that_cannot_be_replaced_is_reported_and_shown_by_status(
    world: PatWorld, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.azure_artifacts import cli

    fake = world.fake
    first = world.secret()
    assert first is not None
    fake.revoke(first)
    world.sign_out()  # no way to a new token: the dead PAT cannot be replaced now
    assert service.lookup(world.url(), None, world.env) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "was refused and no new one could be made" in err[-1], err
    assert first not in "\n".join(err)
    for name, value in world.env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "(refused: replaced on the next lookup or login)" in out and first not in out
    sign_in(fake, world.env)
    again = world.secret()
    assert again is not None and again != first and fake.count("pat_create") == 2
