"""Hypothesis over what a lookup reads before any network: the service string and the config
file. Nothing escapes but ConfigError, and a foreign host is never taken for one of ours.

Example counts come from the profiles in conftest.py (`ci` by default; `tox -e fuzz` sets
HYPOTHESIS_PROFILE=fuzz for 10,000 examples each)."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keyrings.azure_artifacts import service, urls
from keyrings.azure_artifacts.config.files import host_rules, read_config
from keyrings.azure_artifacts.errors import ConfigError

CONFIGURED = ("feeds.example.test", 8443)
KNOWN = ("pkgs.dev.azure.com", "pkgs.codedev.ms", "pkgs.codeapp.ms")
KNOWN_SUFFIXES = (".pkgs.visualstudio.com", ".pkgs.vsts.me")
BASE_CONFIG = f'[artifacts host="{CONFIGURED[0]}:{CONFIGURED[1]}"]\npath_prefix = /tfs\n'

# CI runs a smaller sample than conftest's shared `ci` profile (these examples touch files);
# `tox -e fuzz` (HYPOTHESIS_PROFILE=fuzz) keeps the profile's 10,000.
_FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
SAMPLE = settings(suppress_health_check=[HealthCheck.too_slow], **({} if _FUZZ else {"max_examples": 150}))

# Config files and the state directory of every example; property tests
# cannot take pytest's function-scoped tmp fixtures, so the module keeps its own.
_dir = tempfile.TemporaryDirectory(prefix="fuzz-config-")
_names = itertools.count()


def fresh_file(data: bytes) -> Path:
    """A new path per example: read_config memoises by path, mtime and size."""
    path = Path(_dir.name) / f"{next(_names)}.cfg"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def environ() -> Iterator[dict[str, str]]:
    path = fresh_file(BASE_CONFIG.encode())
    yield {"KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(path), "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": _dir.name}


def is_ours(host: str, port: int | None) -> bool:
    host = host.lower()
    if (host, port) == CONFIGURED:
        return True
    # Microsoft's own hosts on another port are still Microsoft's hosts.
    return host in KNOWN or any(host.endswith(s) and len(host) > len(s) for s in KNOWN_SUFFIXES)


# -- service strings -----------------------------------------------------------------------

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
evil = st.builds(lambda a, b: f"{a}.{b}", label, st.sampled_from(["evil.io", "com", "test", "azure.com"]))
known_host = st.sampled_from(
    [*KNOWN, "contoso.pkgs.visualstudio.com", "contoso.pkgs.vsts.me", *CONFIGURED[:1]]
)
junk = st.text(max_size=12)


@st.composite
def adversarial_host(draw: st.DrawFn) -> str:
    k, e = draw(known_host), draw(evil)
    form = draw(
        st.sampled_from(
            [
                "{k}.{e}",
                "{e}{k}",
                "{e}-{k}",
                "{k}@{e}",
                "{e}/{k}",
                "{e}\\@{k}",
                "{e}#@{k}",
                "{e}?@{k}",
                "{k}%2e{e}",
                "{k}:{j}@{e}",
                "{k}.:{j}",
                "[{k}]",
                "{e}:443\\{k}",
                "{k}{j}",
                "{j}{k}",
            ]
        )
    )
    return form.format(k=k, e=e, j=draw(junk))


path = st.lists(
    st.one_of(label, st.sampled_from(["_packaging", "pypi", "simple", "upload", "%2e%2e", "..", "@", ""])),
    max_size=7,
).map(lambda parts: "/" + "/".join(parts))
scheme = st.sampled_from(["https://", "http://", "HTTPS://", "", "//", "ftp://", "https:/", "https:\\\\"])
port = st.one_of(st.just(""), st.sampled_from([":443", ":8443", ":0", ":99999", ":", ":abc"]))


@SAMPLE
@given(scheme=scheme, host=adversarial_host(), port=port, path=path)
def test_fuzz_foreign_hosts_are_never_ours(
    environ: dict[str, str], scheme: str, host: str, port: str, path: str
) -> None:
    service_string = f"{scheme}{host}{port}{path}"
    resolution = service.resolve(service_string, environ)
    if resolution is not None:
        ref = resolution.ref
        assert is_ours(ref.host, ref.port), (service_string, ref.host, ref.port)
        assert ref.org and "/" not in ref.org


@SAMPLE
@given(st.one_of(st.text(max_size=300), st.builds("{}{}{}".format, scheme, st.text(max_size=40), path)))
def test_fuzz_any_service_string(environ: dict[str, str], text: str) -> None:
    rules = host_rules(read_config(Path(environ["KEYRINGS_AZURE_ARTIFACTS_CONFIG"])))
    ref = urls.parse_service(text, rules)
    if ref is not None:
        assert is_ours(ref.host, ref.port), (text, ref.host, ref.port)
        assert ref.scheme == "https"  # the fixed config allows no http
    assert service.resolve(text, environ) is None or ref is not None


# -- config files --------------------------------------------------------------------------

qualifier_value = st.one_of(label, st.text(max_size=10), st.just(f"{CONFIGURED[0]}:{CONFIGURED[1]}"))
qualifier = st.builds(
    lambda k, q, v: f"{k}={q}{v}{q}",
    st.sampled_from(["host", "org", "project", "feed", "view", "tenant", "HOST", "org "]),
    st.sampled_from(['"', "'", "", "\"'"]),
    qualifier_value,
)
header = st.one_of(
    st.builds(lambda qs: "[" + " ".join(["artifacts", *qs]) + "]", st.lists(qualifier, max_size=4)),
    st.builds("[{}]".format, st.text(max_size=30)),
    st.just("[backend]"),
)
option_name = st.one_of(
    st.sampled_from(
        [
            "auth", "credential", "tenant", "authority_host", "client_id", "scopes", "pat_duration",
            "pat_renew_before", "session_duration", "username", "interactive", "token_env",
            "token_file", "vssps_url", "timeout", "path_prefix", "allow_http", "Auth",
        ]
    ),
    label,
)  # fmt: skip
option_value = st.one_of(
    st.sampled_from(
        [
            "session", "bearer", "pat", "auto", "static, device_code", "90d", "P1Y2M", "-1", "0", "1e9",
            "nan", "inf", "true", "maybe", "https://evil.io", "http://127.0.0.1", "/tfs", "../..",
            "{org}", "%(foo)s", "vso.packaging vso.packaging_write", "",
        ]
    ),
    st.text(max_size=40),
)  # fmt: skip
line = st.one_of(
    header,
    st.builds("{} = {}".format, option_name, option_value),
    st.builds("{}: {}".format, option_name, option_value),
    st.builds("  {}".format, option_value),
    st.text(max_size=40),
)
config_text = st.lists(line, max_size=15).map("\n".join)


def _read_all(data: bytes, services: list[str]) -> None:
    environ = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(fresh_file(data)),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": _dir.name,
    }
    try:
        for service_string in services:
            resolution = service.resolve(service_string, environ)
            if resolution is None:
                continue
            assert is_ours(resolution.ref.host, resolution.ref.port) or resolution.ref.kind == "configured"
            for error in resolution.errors:
                assert isinstance(error, str) and "\n" not in error
    except ConfigError:
        pass


SERVICES = [
    "https://pkgs.dev.azure.com/contoso/_packaging/main/pypi/simple/",
    "https://contoso.pkgs.visualstudio.com/proj/_packaging/main@Release/pypi/upload/",
    f"https://{CONFIGURED[0]}:{CONFIGURED[1]}/tfs/contoso/_packaging/main/pypi/simple/",
    "https://evil.io/contoso/_packaging/main/pypi/simple/",
    "poetry-repository-x",
]


@SAMPLE
@given(config_text)
def test_fuzz_config_text(text: str) -> None:
    _read_all(text.encode("utf-8", "surrogatepass"), SERVICES)


@SAMPLE
@given(st.binary(max_size=400))
def test_fuzz_config_bytes(data: bytes) -> None:
    _read_all(data, SERVICES[:1])


@SAMPLE
@given(
    host=adversarial_host(),
    url_host=adversarial_host(),
    allow_http=st.booleans(),
)
def test_fuzz_configured_host_matches_only_itself(host: str, url_host: str, allow_http: bool) -> None:
    """Whatever a host section says, a URL is only ours on that host or, as README says, on a
    dot boundary below it (a trailing dot is the same host)."""
    assume('"' not in host)
    config = f'[artifacts host="{host}"]\nallow_http = {str(allow_http).lower()}\n'
    environ = {
        "KEYRINGS_AZURE_ARTIFACTS_CONFIG": str(fresh_file(config.encode())),
        "KEYRINGS_AZURE_ARTIFACTS_STATE_DIR": _dir.name,
    }
    url = f"https://{url_host}/contoso/_packaging/main/pypi/simple/"
    try:
        resolution = service.resolve(url, environ)
    except ConfigError:
        return
    if resolution is None or resolution.ref.kind != "configured":
        return
    declared = urls.parse_host(host)
    name, wanted = resolution.ref.host.rstrip("."), declared[0].rstrip(".")
    assert name == wanted or name.endswith("." + wanted)
    assert declared[1] is None or resolution.ref.port == declared[1]
