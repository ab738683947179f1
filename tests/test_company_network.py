"""A company network: a proxy in the environment carries every request (ours, msal's and
azure-identity's), its credentials never show; CA bundles win over the OS store, per host too.

The OS trust store itself is simulated in tests/e2e/test_os_trust_store.py (a mount namespace).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from keyrings.azure_artifacts import service, tls
from keyrings.azure_artifacts._log import LOGGER_NAME
from keyrings.azure_artifacts.errors import UntrustedCertificate
from keyrings.azure_artifacts.http import Http
from keyrings.azure_artifacts.testing import FakeAzure
from keyrings.azure_artifacts.testing.proxy import TUNNEL_THREAD, ConnectProxy

if TYPE_CHECKING:
    from conftest import CleanEnv, Logged

APP_ID = "7e7e7e7e-0000-4000-8000-00000000e002"
APP_SECRET = "company-network-app-secret"
PROXY_USER, PROXY_PASSWORD = "alice", "proxy-pass-9f3e"

_connects: list[list[tuple[str, object]]] = []
_hooked = False


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _connects and event == "socket.connect":
        for sink in _connects:
            sink.append((threading.current_thread().name, args[1]))


@pytest.fixture
def connects() -> Iterator[list[tuple[str, object]]]:
    """(thread name, address) of every socket.connect in this process during the test."""
    global _hooked
    if not _hooked:
        sys.addaudithook(_audit)  # cannot be removed: one hook, switched by _connects
        _hooked = True
    sink: list[tuple[str, object]] = []
    _connects.append(sink)
    try:
        yield sink
    finally:
        _connects.remove(sink)


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    with ConnectProxy(credentials=f"{PROXY_USER}:{PROXY_PASSWORD}") as running:
        yield running


def company_env(fake: FakeAzure, clean_env: CleanEnv, proxy: ConnectProxy, **extra: str) -> dict[str, str]:
    """A CI job behind the proxy: loopback is not exempt (NO_PROXY empty), the fake's CA named."""
    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n'
    env = clean_env.for_lookup(config, ca=fake.ca_path, CI="1", HTTPS_PROXY=proxy.url, **extra)
    env["NO_PROXY"] = env["no_proxy"] = ""
    return env


def assert_all_through(proxy: ConnectProxy, fake: FakeAzure, connects: list[tuple[str, object]]) -> None:
    port = int(fake.host.rpartition(":")[2])
    assert proxy.targets() and set(proxy.targets()) == {fake.host}
    expected = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    assert {c.proxy_authorization for c in proxy.connects} == {expected}
    direct = [(who, where) for who, where in connects if isinstance(where, tuple) and where[1:2] == (port,)]
    assert direct and all(who == TUNNEL_THREAD for who, _ in direct), (
        direct
    )  # only the proxy reached the fake


def test_a_proxy_carries_discovery_msal_and_the_exchange(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    proxy: ConnectProxy,
    connects: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    logged: Logged,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    fake_azure.add_app(APP_ID, secret=APP_SECRET)
    env = company_env(
        fake_azure,
        clean_env,
        proxy,
        AZURE_CLIENT_ID=APP_ID,
        AZURE_CLIENT_SECRET=APP_SECRET,
        KEYRINGS_AZURE_ARTIFACTS_LOG="debug",
    )
    clean_env.install(monkeypatch, env)
    found = service.lookup(fake_azure.feed_url("contoso", "main"), None, environ=env)
    assert found is not None and fake_azure.lookup(found[1]) is not None
    assert fake_azure.count("simple") >= 1 and fake_azure.count("token") >= 1  # discovery, msal
    assert_all_through(proxy, fake_azure, connects)
    lines = "\n".join(logged.lines())
    assert f"via proxy http://***@127.0.0.1:{proxy.port}" in lines
    assert PROXY_PASSWORD not in lines and PROXY_USER not in lines


def test_a_proxy_carries_azure_identitys_requests(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    proxy: ConnectProxy,
    connects: list[tuple[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Azure Pipelines federation runs on azure-identity's AzurePipelinesCredential (azure-core)."""
    job = fake_azure.azure_pipelines_job("contoso")
    env = company_env(fake_azure, clean_env, proxy, **job)
    clean_env.install(monkeypatch, env)
    found = service.lookup(fake_azure.feed_url("contoso", "main"), None, environ=env)
    assert found is not None and fake_azure.lookup(found[1]) is not None
    assert fake_azure.count("pipelines_oidc") == 1
    assert_all_through(proxy, fake_azure, connects)


def test_no_proxy_naming_the_host_goes_direct(
    fake_azure: FakeAzure, clean_env: CleanEnv, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = company_env(fake_azure, clean_env, proxy)
    env["no_proxy"] = "127.0.0.1"
    clean_env.install(monkeypatch, env)
    http = Http(timeout=5, retries=0)
    try:
        assert http.get(fake_azure.feed_url("contoso", "main")).status_code == 401
    finally:
        http.close()
    assert proxy.connects == []


def test_a_refusing_proxy_is_one_line_without_its_password(
    fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy(credentials=f"{PROXY_USER}:{PROXY_PASSWORD}") as gone:
        url = gone.url
    env = clean_env(HTTPS_PROXY=url)
    env["NO_PROXY"] = env["no_proxy"] = ""
    clean_env.install(monkeypatch, env)
    http = Http(timeout=5, retries=0)
    from keyrings.azure_artifacts.errors import ServiceError

    with pytest.raises(ServiceError) as info:
        http.get(fake_azure.feed_url("contoso", "main"))
    message = str(info.value)
    assert "proxy" in message and "\n" not in message
    assert PROXY_PASSWORD not in message and PROXY_USER not in message


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({"HTTPS_PROXY": "http://p:1"}, "https://h/x", "http://p:1"),
        ({"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:1"}, "https://h/", "http://lower:1"),
        ({"ALL_PROXY": "p:3128"}, "https://h/", "http://p:3128"),
        ({"HTTP_PROXY": "http://p:1"}, "https://h/", None),  # http_proxy is for http URLs
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h"}, "https://h/", None),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": ".example.com"}, "https://a.example.com/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h:8443"}, "https://h:8443/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h:8443"}, "https://h/", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "h:443"}, "https://h/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://h/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "https://10.1.2.3/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "https://11.1.2.3/", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "::1"}, "https://[::1]:8443/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "[::1]:8443"}, "https://[::1]:8443/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "[::1]:9"}, "https://[::1]:8443/", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "xh"}, "https://h/", "http://p:1"),
        ({}, "https://h/", None),
    ],
)
def test_which_proxy_carries_a_url(env: dict[str, str], url: str, expected: str | None) -> None:
    assert tls.proxy_for(url, env) == expected


def test_proxy_userinfo_is_hidden() -> None:
    assert tls.hide_userinfo("via http://u:s3cr3t@proxy:3128 failed") == "via http://***@proxy:3128 failed"


# -- bundles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "source"),
    [
        ({"REQUESTS_CA_BUNDLE": "/a", "CURL_CA_BUNDLE": "/b", "SSL_CERT_FILE": "/c"}, "REQUESTS_CA_BUNDLE"),
        ({"CURL_CA_BUNDLE": "/b", "SSL_CERT_FILE": "/c"}, "CURL_CA_BUNDLE"),
        ({"SSL_CERT_FILE": "/c"}, "SSL_CERT_FILE"),
        ({"SSL_CERT_FILE": "/c", "SSL_CERT_DIR": "/d"}, "SSL_CERT_FILE + SSL_CERT_DIR"),
        ({"REQUESTS_CA_BUNDLE": " "}, tls.OS_STORE),
        ({}, tls.OS_STORE),
    ],
)
def test_which_variable_names_the_bundle(env: dict[str, str], source: str) -> None:
    assert tls.trust_from(env).source == source


def test_a_named_bundle_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "company.pem"
    with pytest.raises(Exception) as info:
        tls.ssl_context(tls.bundle_trust(str(missing)))
    assert str(info.value) == f"ca_bundle names {missing}, which does not exist"


def test_verification_is_never_turned_off(fake_azure: FakeAzure) -> None:
    session = tls.session({"REQUESTS_CA_BUNDLE": fake_azure.ca_path})
    try:
        with pytest.raises(ValueError, match="never turned off"):
            session.get(fake_azure.feed_url("contoso", "main"), verify=False, timeout=5)
    finally:
        session.close()


def test_ca_bundle_in_a_host_section_verifies_that_host_only(
    fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azure DevOps Server with an internal CA: its section names the bundle (the lookup pins it
    on the context); no CA variable is set, so any other host is checked against the OS store."""
    config = f'[artifacts host="{fake_azure.host}"]\nca_bundle = {fake_azure.ca_path}\n'
    env = clean_env.for_lookup(config, CI="1")
    clean_env.install(monkeypatch, env)  # no CA variable anywhere: only the section trusts the fake
    url = fake_azure.feed_url("contoso", "main")
    from keyrings.azure_artifacts.context import Context

    ctx = Context(env)
    ctx.use_ca_bundle(url, fake_azure.ca_path)
    assert ctx.http(5).get(url).status_code == 401  # the feed's origin: the section's bundle
    ctx.use_ca_bundle(url, None)
    with pytest.raises(UntrustedCertificate, match="not trusted by the OS trust store"):
        ctx.http(5).get(url)


@pytest.mark.parametrize("flow", ["environment", "azure_pipelines"])
def test_ssl_cert_file_alone_is_honoured_by_msal_and_azure_identity(
    fake_azure: FakeAzure, clean_env: CleanEnv, monkeypatch: pytest.MonkeyPatch, flow: str
) -> None:
    """Stock requests (and so msal's and azure-core's own sessions) ignore SSL_CERT_FILE: a lookup
    that works with only that variable set ran every request on our session."""
    if flow == "environment":
        fake_azure.add_app(APP_ID, secret=APP_SECRET)
        extra = {"AZURE_CLIENT_ID": APP_ID, "AZURE_CLIENT_SECRET": APP_SECRET}
    else:
        extra = fake_azure.azure_pipelines_job("contoso")
    config = f'[artifacts host="{fake_azure.host}"]\nauthority_host = {fake_azure.base_url}\n'
    env = clean_env.for_lookup(config, CI="1", SSL_CERT_FILE=fake_azure.ca_path, **extra)
    clean_env.install(monkeypatch, env)
    found = service.lookup(fake_azure.feed_url("contoso", "main"), None, environ=env)
    assert found is not None and fake_azure.lookup(found[1]) is not None
    assert fake_azure.count("pipelines_oidc" if flow == "azure_pipelines" else "token") == 1


# -- doctor ---------------------------------------------------------------------------------------


def doctor_tls(
    fake: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    section: str = "",
    **env: str,
) -> tuple[int, dict[str, Any]]:
    """`doctor --json` for the fake's feed with os.environ = a clean machine plus `env`; the TLS step."""
    from conftest import run_cli

    config = f'[artifacts host="{fake.host}"]\nauthority_host = {fake.base_url}\n{section}'
    full = clean_env.for_lookup(config, CI="1", **env)
    if "HTTPS_PROXY" in env:
        full["NO_PROXY"] = full["no_proxy"] = ""
    clean_env.install(monkeypatch, full)
    code, out, _err = run_cli(capsys, "doctor", "--json", fake.feed_url("contoso", "main"))
    steps = {s["name"]: s for s in json.loads(out)["steps"]}
    return code, {**steps["tls"], "others": steps}


def test_doctor_names_the_issuer_the_os_store_does_not_trust(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, step = doctor_tls(fake_azure, clean_env, monkeypatch, capsys)
    assert code == 1 and step["status"] == "failed", step
    assert step["detail"].startswith(
        f"{fake_azure.host} (feed, token service, Entra ID): certificate issued by '"
    )
    assert "trustme" in step["detail"] and step["detail"].endswith("NOT trusted by the OS trust store")
    assert "TLS-inspecting proxy" in step["fix"] and "REQUESTS_CA_BUNDLE" in step["fix"]


def test_doctor_says_which_bundle_trusts_the_host(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _code, step = doctor_tls(
        fake_azure, clean_env, monkeypatch, capsys, REQUESTS_CA_BUNDLE=fake_azure.ca_path
    )
    assert step["status"] == "ok", step
    assert step["detail"].endswith(f", trusted by REQUESTS_CA_BUNDLE={fake_azure.ca_path}")


def test_doctor_uses_a_sections_ca_bundle(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _code, step = doctor_tls(
        fake_azure, clean_env, monkeypatch, capsys, f"ca_bundle = {fake_azure.ca_path}\n"
    )
    assert step["status"] == "ok", step
    assert step["detail"].endswith(f", trusted by ca_bundle={fake_azure.ca_path}")
    # The lookup's own requests (discovery here) use the section's bundle too.
    tenant = step["others"]["tenant"]
    assert tenant["status"] == "ok" and "(discovered)" in tenant["detail"], tenant


def test_doctor_handshakes_through_the_proxy(
    fake_azure: FakeAzure,
    clean_env: CleanEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    proxy: ConnectProxy,
) -> None:
    _code, step = doctor_tls(
        fake_azure,
        clean_env,
        monkeypatch,
        capsys,
        REQUESTS_CA_BUNDLE=fake_azure.ca_path,
        HTTPS_PROXY=proxy.url,
    )
    assert step["status"] == "ok", step
    assert proxy.targets() and set(proxy.targets()) == {fake_azure.host}
    assert PROXY_PASSWORD not in json.dumps(step)


# -- the OS store: which implementation -----------------------------------------------------------


@pytest.mark.skipif(sys.version_info < (3, 10), reason="truststore is a dependency on Python >= 3.10 only")
@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_windows_and_macos_ask_the_platform_verifier_through_truststore(
    monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    import truststore

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(tls, "_contexts", {})
    assert isinstance(tls.ssl_context(tls.Trust()), truststore.SSLContext)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux trust path")
def test_on_linux_the_system_bundle_is_loaded_once_without_truststore() -> None:
    """truststore reads OpenSSL's default paths on Linux too, but again for every connection."""
    import subprocess

    code = (
        "import sys, ssl; from keyrings.azure_artifacts import tls; "
        "ctx = tls.ssl_context(tls.Trust()); "
        "assert type(ctx) is ssl.SSLContext and ctx.cert_store_stats()['x509_ca'] > 0, ctx.cert_store_stats(); "
        "assert tls.ssl_context(tls.Trust()) is ctx; "
        "assert 'truststore' not in sys.modules"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
