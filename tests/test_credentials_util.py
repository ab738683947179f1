"""Pure helpers: reasons are one safe line; hosts; MSAL account choice and results."""

from __future__ import annotations

import pytest

from keyrings.azure_artifacts.credentials import msal_user
from keyrings.azure_artifacts.credentials._util import authority_host, is_microsoft_host, one_line
from keyrings.azure_artifacts.credentials.base import FlowOptions
from keyrings.azure_artifacts.credentials.broker import broker_supported
from keyrings.azure_artifacts.credentials.interactive_browser import has_browser
from keyrings.azure_artifacts.errors import AuthenticationFailed

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "ClientSecretCredential.get_token failed: AADSTS7000215: Invalid client secret.\nTrace ID: 1",
            "ClientSecretCredential.get_token failed: AADSTS7000215: Invalid client secret.",
        ),
        ("\n\n  first\nsecond", "first"),
        (
            f'Unexpected output: {{"accessToken": "{JWT}"}}',
            'Unexpected output: {"accessToken": "***"}',
        ),
        ("refresh_token=abc123 was rejected", "refresh_token=*** was rejected"),
        ("", "failed"),
        ("x" * 500, "x" * 197 + "..."),
    ],
)
def test_one_line(message: str, expected: str) -> None:
    assert one_line(message) == expected


def test_hosts() -> None:
    assert is_microsoft_host("https://login.microsoftonline.com")
    assert is_microsoft_host("https://login.microsoftonline.us/")
    assert not is_microsoft_host("https://127.0.0.1:8443")
    assert not is_microsoft_host("https://login.microsoftonline.com.evil.io")
    assert authority_host(FlowOptions(org="o")) == "https://login.microsoftonline.com"
    assert authority_host(
        FlowOptions(org="o", environ={"AZURE_AUTHORITY_HOST": "login.microsoftonline.us"})
    ) == ("https://login.microsoftonline.us")
    assert (
        authority_host(FlowOptions(org="o", authority_host="https://127.0.0.1:1/")) == "https://127.0.0.1:1"
    )
    assert msal_user.authority_url(FlowOptions(org="o")) == "https://login.microsoftonline.com/organizations"
    assert msal_user.authority_url(FlowOptions(org="o", tenant="t1")).endswith("/t1")


T1 = "11111111-1111-1111-1111-111111111111"
T2 = "22222222-2222-2222-2222-222222222222"
FAKE = "https://127.0.0.1:9443"


def _entry(user: str, uid: str, home: str, realm: str, env: str = "127.0.0.1:9443") -> dict[str, str]:
    return {"home_account_id": f"{uid}.{home}", "realm": realm, "username": user, "environment": env}


ENTRIES = [
    _entry("ann@one", "u1", T1, T1),
    _entry("bob@two", "u2", T2, T2, env="127.0.0.1"),  # msal drops the port
    _entry("ann@one", "u1", T1, T2),  # ann as a guest in tenant two
    _entry("eve@ms", "u3", T1, T1, env="login.microsoftonline.com"),
]


@pytest.mark.parametrize(
    ("tenant", "hint", "authority", "expected"),
    [
        (T1, None, FAKE, f"u1.{T1}"),
        (T2, None, FAKE, f"u1.{T1}"),  # ann (guest) sorts before bob
        (T2, "BOB@two", FAKE, f"u2.{T2}"),
        (T1, "bob@two", FAKE, None),
        ("33333333-3333-3333-3333-333333333333", None, FAKE, None),
        (None, None, FAKE, f"u1.{T1}"),
        ("contoso.onmicrosoft.com", "bob@two", FAKE, f"u2.{T2}"),
        (T1, None, "https://login.windows.net", f"u3.{T1}"),
        (T1, None, "https://127.0.0.1:9444", None),
        (T2, "bob@two", "https://127.0.0.2:9443", None),
    ],
)
def test_pick_account(tenant: str | None, hint: str | None, authority: str, expected: str | None) -> None:
    assert msal_user.pick_account(ENTRIES, authority, tenant, hint) == expected


def test_token_from_result() -> None:
    token = msal_user.token_from_result({"access_token": "a", "expires_in": 3600}, now=1000)
    assert (token.token, token.expires_on) == ("a", 4600)
    secret = msal_user.token_from_result({"access_token": JWT, "expires_in": 1}, now=0)
    assert JWT not in repr(secret)
    with pytest.raises(AuthenticationFailed) as info:
        msal_user.token_from_result(
            {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret.\r\nTrace ID: x",
            }
        )
    assert str(info.value) == "invalid_client: AADSTS7000215: Invalid client secret."
    with pytest.raises(AuthenticationFailed):
        msal_user.token_from_result(None)


def test_platform_heuristics() -> None:
    assert has_browser({}, "win32") and has_browser({}, "darwin")
    assert not has_browser({}, "linux")
    assert has_browser({"DISPLAY": ":0"}, "linux")
    assert not broker_supported("linux")
