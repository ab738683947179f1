"""Session-token and PAT exchanges: pure build/parse tables, then the real calls against the fake."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from keyrings.azure_artifacts.egress import Egress
from keyrings.azure_artifacts.errors import AuthenticationFailed, ServiceError
from keyrings.azure_artifacts.exchange import (
    IssuedToken,
    format_valid_to,
    parse_valid_to,
)
from keyrings.azure_artifacts.exchange.session import (
    build_session_request,
    create_session_token,
    parse_session_response,
    session_tokens_url,
)
from keyrings.azure_artifacts.http import Http
from keyrings.azure_artifacts.pat.client import (
    build_pat_request,
    create_pat,
    parse_pat_response,
    pats_url,
    revoke_pat,
)
from keyrings.azure_artifacts.urls import HostRule, parse_service


@pytest.mark.parametrize(
    ("service", "rules", "expected"),
    [
        (
            "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/",
            (),
            "https://vssps.dev.azure.com/contoso",
        ),
        (
            "https://contoso.pkgs.visualstudio.com/_packaging/f/pypi/simple/",
            (),
            "https://contoso.vssps.visualstudio.com",
        ),
        ("https://pkgs.codedev.ms/contoso/_packaging/f/pypi/simple/", (), "https://vssps.codedev.ms/contoso"),
        ("https://pkgs.codeapp.ms/contoso/_packaging/f/pypi/simple/", (), "https://contoso.vssps.codeapp.ms"),
        ("https://contoso.pkgs.vsts.me/_packaging/f/pypi/simple/", (), "https://contoso.vssps.vsts.me"),
        (
            "https://tfs.corp:8443/tfs/DefaultCollection/_packaging/f/pypi/simple/",
            (HostRule("tfs.corp", 8443, "/tfs"),),
            "https://tfs.corp:8443/tfs/DefaultCollection",
        ),
        (
            "https://127.0.0.1:4443/contoso/_packaging/f/pypi/simple/",
            (HostRule("127.0.0.1", 4443),),
            "https://127.0.0.1:4443/contoso",
        ),
    ],
)
def test_default_vssps_url(service: str, rules: tuple[HostRule, ...], expected: str) -> None:
    ref = parse_service(service, rules)
    assert ref is not None
    assert ref.default_vssps_url() == expected


E = int(datetime(2026, 12, 22, 10, 0, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-22T10:00:00Z", E),
        ("2026-12-22T10:00:00.1234567Z", E),
        ("2026-12-22T10:00:00.9999999Z", E),
        ("2026-12-22T10:00:00", E),
        ("2026-12-22T10:00Z", E),
        ("2026-12-22T11:00:00+01:00", E),
        ("2026-12-22T05:30:00.5-0430", E),
        ("2026-12-22 10:00:00z", E),
    ],
)
def test_parse_valid_to(text: str, expected: int) -> None:
    assert parse_valid_to(text) == expected


@pytest.mark.parametrize("text", [None, 5, "", "tomorrow", "2026-13-01T00:00:00Z", "2026-12-22"])
def test_parse_valid_to_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_valid_to(text)


def test_format_valid_to() -> None:
    assert format_valid_to(datetime(2026, 1, 2, 3, 4, 5, 999)) == "2026-01-02T03:04:05Z"
    tz = timezone(timedelta(hours=2))
    assert format_valid_to(datetime(2026, 1, 2, 3, 4, 5, tzinfo=tz)) == "2026-01-02T01:04:05Z"


def test_request_bodies_and_urls() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert build_session_request("n", ["vso.packaging", "vso.x"], when) == {
        "displayName": "n",
        "scope": "vso.packaging vso.x",
        "validTo": "2026-01-01T00:00:00Z",
    }
    assert "validTo" not in build_session_request("n", ["vso.packaging"], None)
    assert build_pat_request("n", ["vso.packaging_write"], when) == {
        "displayName": "n",
        "scope": "vso.packaging_write",
        "validTo": "2026-01-01T00:00:00Z",
        "allOrgs": False,
    }
    assert (
        session_tokens_url("https://vssps.dev.azure.com/contoso/")
        == "https://vssps.dev.azure.com/contoso/_apis/Token/SessionTokens?tokenType=SelfDescribing&api-version=5.0-preview.1"
    )
    assert (
        pats_url("https://vssps.dev.azure.com/c", authorizationId="a b")
        == "https://vssps.dev.azure.com/c/_apis/tokens/pats?authorizationId=a%20b&api-version=7.1-preview.1"
    )


def test_parse_responses() -> None:
    issued = parse_session_response(
        {
            "token": "tok",
            "validTo": "2026-12-22T10:00:00.1234567Z",
            "scope": "vso.packaging",
            "authorizationId": "a1",
        },
        "name",
        "what",
    )
    assert issued == IssuedToken("tok", E, ("vso.packaging",), "a1", "name")
    assert "tok" not in repr(issued)
    with pytest.raises(ServiceError, match="no token"):
        parse_session_response({"validTo": "2026-12-22T10:00:00Z"}, "n", "what")
    with pytest.raises(ServiceError, match="validTo"):
        parse_session_response({"token": "t", "validTo": "soon"}, "n", "what")


@pytest.mark.parametrize(
    ("error", "exc"),
    [
        ("accessDenied", AuthenticationFailed),
        ("fullScopePatPolicyViolation", AuthenticationFailed),
        ("invalidScope", ServiceError),
        ("somethingNew", ServiceError),
    ],
)
def test_pat_token_errors(error: str, exc: type[Exception]) -> None:
    with pytest.raises(exc, match=error):
        parse_pat_response({"patToken": None, "patTokenError": error}, "n", "PAT from x")


# --- against the fake Azure DevOps ------------------------------------------------------


@pytest.fixture
def http(fake: Any) -> Iterator[Http]:
    h = Http(timeout=5, retries=2, backoff=0.01, egress=Egress.to(fake.base_url))
    yield h
    h.close()


def later(seconds: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


def test_session_token_round_trip(fake: Any, http: Http) -> None:
    entra = fake.access_token()
    issued = create_session_token(
        http, f"{fake.base_url}/contoso/", entra, ["vso.packaging"], later(4 * 3600), "kr-test"
    )
    assert issued.scopes == ("vso.packaging",)
    assert abs(issued.expires_at - (time.time() + 4 * 3600)) < 60
    assert issued.authorization_id
    record = fake.lookup(issued.token)
    assert record.kind == "session" and record.org == "contoso"
    assert fake.count("session_token", status=200) == 1


def test_session_token_retries_without_valid_to_on_400(fake: Any, http: Http) -> None:
    entra = fake.access_token()
    issued = create_session_token(
        http, f"{fake.base_url}/contoso", entra, ["vso.packaging"], later(-60), "kr-test"
    )
    assert issued.token
    assert fake.count("session_token", status=400) == 1
    assert fake.count("session_token", status=200) == 1


def test_session_token_503_is_retried(fake: Any, http: Http) -> None:
    fake.inject("session_token", status=503, times=2)
    issued = create_session_token(
        http, f"{fake.base_url}/contoso", fake.access_token(), ["vso.packaging"], None, "kr"
    )
    assert issued.token
    assert fake.count("session_token") == 3


def test_session_token_gives_up_after_retries(fake: Any, http: Http) -> None:
    fake.inject("session_token", status=503, times=10)
    with pytest.raises(ServiceError, match=r"SessionTokens: HTTP 503 after 2 retries$"):
        create_session_token(
            http, f"{fake.base_url}/contoso", fake.access_token(), ["vso.packaging"], None, "kr"
        )


def test_session_token_refused(fake: Any, http: Http) -> None:
    bad = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    with pytest.raises(AuthenticationFailed) as info:
        create_session_token(http, f"{fake.base_url}/contoso", bad, ["vso.packaging"], None, "kr")
    assert "HTTP 401" in str(info.value) and fake.host in str(info.value)
    assert bad not in str(info.value)


def test_session_token_non_json(fake: Any, http: Http) -> None:
    fake.inject("session_token", status=200, body=b"<html>sign in</html>", content_type="text/html")
    with pytest.raises(ServiceError, match=r"non-JSON answer \(text/html\)"):
        create_session_token(
            http, f"{fake.base_url}/contoso", fake.access_token(), ["vso.packaging"], None, "kr"
        )


def test_session_token_hang_times_out(fake: Any) -> None:
    fake.inject("session_token", hang=3, times=3)
    h = Http(timeout=0.5, retries=2, backoff=0.01, egress=Egress.to(fake.base_url))
    with pytest.raises(ServiceError, match=r"timed out after 0\.5 s"):
        create_session_token(
            h, f"{fake.base_url}/contoso", fake.access_token(), ["vso.packaging"], None, "kr"
        )
    assert fake.arrived("session_token") == 1  # a POST read timeout is not retried
    h.close()


def test_pat_create_revoke(fake: Any, http: Http) -> None:
    entra = fake.access_token(username="user@contoso.com")  # the PAT API takes users only
    vssps = f"{fake.base_url}/contoso"
    issued = create_pat(http, vssps, entra, ["vso.packaging_write"], later(30 * 86400), "kr-pat")
    assert issued.token and issued.authorization_id
    assert issued.scopes == ("vso.packaging_write",)
    assert not fake.lookup(issued.token).revoked
    revoke_pat(http, vssps, entra, issued.authorization_id)
    assert fake.lookup(issued.token).revoked
    revoke_pat(http, vssps, entra, issued.authorization_id)  # already gone: fine


def test_pat_error_is_named(fake: Any, http: Http) -> None:
    with pytest.raises(ServiceError, match="patTokenError invalidValidTo"):
        create_pat(
            http, f"{fake.base_url}/contoso", fake.access_token(username="user@contoso.com"),
            ["vso.packaging"], later(-60), "kr",
        )  # fmt: skip


def test_pat_post_not_retried_on_500(fake: Any, http: Http) -> None:
    fake.inject("pat_create", status=500, times=1)
    with pytest.raises(ServiceError, match="HTTP 500"):
        create_pat(
            http, f"{fake.base_url}/contoso", fake.access_token(), ["vso.packaging"], later(3600), "kr"
        )
    assert fake.count("pat_create") == 1
    assert fake.issued("pat") == []
