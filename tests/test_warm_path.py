"""The warm path returns exactly what the full path would.

The inputs to check are not a hand-kept list: they are read from what the full path recorded
(the warm index), plus every compatibility and CI variable the product documents. For each,
after a warm entry exists, the variable is changed and the next lookup must equal a lookup
forced down the full path in the same state.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import pytest
from helpers import APP_ID, APP_SECRET

from keyrings.azure_artifacts import service
from keyrings.azure_artifacts.inputs import Inputs, RecordingEnviron, unchanged
from keyrings.azure_artifacts.testing import FakeAzure

if TYPE_CHECKING:
    from helpers import CleanEnv

OTHER_APP_ID = "0f0f0f0f-0000-4000-8000-00000000a002"


@pytest.fixture
def fake(fake: FakeAzure) -> FakeAzure:
    """The shared fake with a second service principal, OTHER_APP_ID."""
    fake.add_app(OTHER_APP_ID, secret=APP_SECRET)
    return fake


def make_env(fake: FakeAzure, clean_env: CleanEnv, config: str = "") -> dict[str, str]:
    """A CI job with a service principal, for an in-process lookup."""
    return clean_env.for_lookup(
        f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\ntoken_env = MY_PAT\n{config}',
        ca=fake.ca_path,
        CI="1",
        AZURE_TENANT_ID=fake.default_tenant,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
    )


def recorded_names(state: Path) -> set[str]:
    """Every variable the full path consulted, as its warm index recorded it."""
    names: set[str] = set()
    for index in (state / "warm").glob("*.json"):
        for variant in json.loads(index.read_text())["variants"]:
            names |= set(variant["inputs"]["env"])
    return names


def full_path(url: str, env: dict[str, str]) -> Optional[tuple[str, str]]:
    """A lookup that cannot take the warm path (its index is gone)."""
    shutil.rmtree(Path(env["KEYRINGS_AZURE_ARTIFACTS_STATE_DIR"]) / "warm", ignore_errors=True)
    return service.lookup(url, None, env)


# Documented inputs, whether or not today's code path reads them on the way to a cached secret.
DOCUMENTED = (
    "AZURE_DEVOPS_EXT_PAT",
    "MY_PAT",
    "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN",
    "AZURE_DEVOPS_PAT_DURATION",
    "AZURE_DEVOPS_PAT_SCOPE",
    "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE",
    "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS",
    "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS",
    "ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS",
    "VSS_NUGET_ACCESSTOKEN",
    "SYSTEM_ACCESSTOKEN",
    "ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "SYSTEM_OIDCREQUESTURI",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "CI",
    "TF_BUILD",
    "GITHUB_ACTIONS",
)


def changed_value(name: str, fake: FakeAzure, url: str) -> str:
    endpoints = json.dumps(
        {"endpointCredentials": [{"endpoint": url, "username": "build", "password": "ep-pw"}]}
    )
    return {
        "AZURE_DEVOPS_EXT_PAT": "ext-pat-value",
        "MY_PAT": "my-pat-value",
        "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN": "true",
        "AZURE_DEVOPS_PAT_DURATION": "10",
        "AZURE_DEVOPS_PAT_SCOPE": "vso.packaging_write",
        "ARTIFACTS_KEYRING_NONINTERACTIVE_MODE": "true",
        "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS": endpoints,
        "ARTIFACTS_CREDENTIALPROVIDER_EXTERNAL_FEED_ENDPOINTS": endpoints,
        "ARTIFACTS_CREDENTIALPROVIDER_FEED_ENDPOINTS": endpoints,
        "VSS_NUGET_ACCESSTOKEN": "job-token",
        "SYSTEM_ACCESSTOKEN": "job-token",
        "ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN": "job-token",
        "VSS_NUGET_URI_PREFIXES": url,
        "AZURE_CLIENT_ID": OTHER_APP_ID,
        "AZURE_AUTHORITY_HOST": fake.base_url,
        "CI": "",
    }.get(name, "1")


def test_every_input_the_full_path_read_is_checked_by_the_warm_path(
    fake: FakeAzure, clean_env: CleanEnv
) -> None:
    url = fake.feed_url("contoso", "main")
    env = make_env(fake, clean_env)
    state = clean_env.state_dir
    first = service.lookup(url, None, env)
    assert first is not None
    names = recorded_names(state)
    # The recording works: the config, the static token variables, the pipeline variables, the
    # identity and the compatibility variables were all read on the way to the cache entry.
    for expected in ("KEYRINGS_AZURE_ARTIFACTS_CONFIG", "MY_PAT", "AZURE_DEVOPS_EXT_PAT", "AZURE_CLIENT_ID",
                     "VSS_NUGET_EXTERNAL_FEED_ENDPOINTS", "KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN", "CI"):  # fmt: skip
        assert expected in names, sorted(names)
    # Values are recorded as digests only: a secret read on the way is never written down.
    assert all(APP_SECRET not in index.read_text() for index in (state / "warm").glob("*.json"))
    checked = 0
    for name in sorted(names | set(DOCUMENTED)):
        if name.startswith("KEYRINGS_AZURE_ARTIFACTS_") or name == "PATH":
            continue  # where the config and state live: covered by the tests below
        changed = {**env, name: changed_value(name, fake, url)}
        if name in (
            "VSS_NUGET_ACCESSTOKEN",
            "SYSTEM_ACCESSTOKEN",
            "ARTIFACTS_CREDENTIALPROVIDER_ACCESSTOKEN",
        ):
            changed["VSS_NUGET_URI_PREFIXES"] = changed["ARTIFACTS_CREDENTIALPROVIDER_URI_PREFIXES"] = url
        assert service.lookup(url, None, env) == first, "the warm entry is there"
        warm = service.lookup(url, None, changed)
        assert warm == full_path(url, changed), name
        checked += 1
    assert checked >= len(DOCUMENTED)


def test_a_static_token_set_later_wins_over_the_warm_entry(fake: FakeAzure, clean_env: CleanEnv) -> None:
    url = fake.feed_url("contoso", "main")
    env = make_env(fake, clean_env)
    cached = service.lookup(url, None, env)
    assert cached is not None and service.lookup(url, None, env) == cached
    assert service.lookup(url, None, {**env, "MY_PAT": "my-pat-value"}) == ("VssSessionToken", "my-pat-value")
    # ...and once it is unset again, the cached session token is back, without a new request.
    fake.clear_log()
    assert service.lookup(url, None, env) == cached
    assert fake.count() == 0


def test_token_file_appearing_and_changing(fake: FakeAzure, tmp_path: Path, clean_env: CleanEnv) -> None:
    url = fake.feed_url("contoso", "main")
    token_file = tmp_path / "pat.txt"
    env = make_env(fake, clean_env)
    assert service.lookup(url, None, env) is not None  # a session token, cached and indexed
    env = make_env(fake, clean_env, f"token_file = {token_file}\n")
    assert service.lookup(url, None, env) is None  # the file is configured but missing: stop
    token_file.write_text("first-pat\n")
    assert service.lookup(url, None, env) == ("VssSessionToken", "first-pat")
    token_file.write_text("second-pat\n")
    assert service.lookup(url, None, env) == ("VssSessionToken", "second-pat")


def test_config_and_state_location_are_part_of_the_answer(
    fake: FakeAzure, tmp_path: Path, clean_env: CleanEnv
) -> None:
    url = fake.feed_url("contoso", "main")
    env = make_env(fake, clean_env)
    first = service.lookup(url, None, env)
    config = Path(env["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])
    config.write_text(config.read_text() + "auth = bearer\n")
    bearer = service.lookup(url, None, env)
    assert bearer is not None and bearer != first
    assert bearer == full_path(url, env)
    elsewhere = {**env, "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": str(tmp_path / "other-state")}
    fake.clear_log()
    assert service.lookup(url, None, elsewhere) not in (None, first, bearer)
    assert fake.count("session_token") + fake.count("token") >= 1  # a new state dir starts cold


def test_recording_environ_records_reads_and_gives_up_on_iteration() -> None:
    base = {"A": "value-a", "B": "value-b"}
    inputs = Inputs(base)
    env = inputs.environ
    assert env.get("A") == "value-a" and "C" not in env and env.get("C") is None
    assert inputs.snapshot() == {
        "env": {"A": inputs.snapshot()["env"]["A"], "C": "-"},  # type: ignore[index]
        "files": {},
    }
    assert "value-" not in json.dumps(inputs.snapshot())  # values enter as digests only
    assert unchanged(inputs.snapshot(), base)
    assert not unchanged(inputs.snapshot(), {"A": "value-a", "C": "3"})
    assert not unchanged(inputs.snapshot(), {"A": "value-b"})
    dict(env)  # someone copied the whole environment: every variable is an input now
    assert inputs.snapshot() is None
    assert isinstance(env, RecordingEnviron)


def test_file_inputs_are_digests_of_their_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    inputs = Inputs({})
    inputs.note_file(path)
    absent = inputs.snapshot()
    path.write_text("x")
    assert not unchanged(absent, {})
    present = inputs.snapshot()
    assert unchanged(present, {})
    path.write_text("y")
    assert not unchanged(present, {})
    assert not unchanged({"env": {}, "files": []}, {}) and not unchanged(None, {})
