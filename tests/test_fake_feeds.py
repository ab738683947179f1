"""The fake's Azure DevOps side: token service and feeds, driven with requests."""

from __future__ import annotations

import io
import zipfile

import requests

from keyrings.azure_artifacts.testing import ADO_SCOPE, FakeAzure

TIMEOUT = 10


def app_token(fake: FakeAzure, tenant: str | None = None) -> str:
    response = requests.post(
        f"{fake.base_url}/{tenant or fake.default_tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "a11ce000-0000-4000-8000-0000000000c1",
            "client_secret": fake.cli_client_secret,
            "scope": ADO_SCOPE,
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def session_token(fake: FakeAzure, org: str, scope: str = "vso.packaging") -> str:
    response = requests.post(
        f"{fake.base_url}/{org}/_apis/Token/SessionTokens?api-version=5.0-preview.1",
        json={"displayName": "test", "scope": scope},
        headers={"Authorization": f"Bearer {app_token(fake)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_anonymous_feed_request_gets_the_discovery_challenge(fake: FakeAzure) -> None:
    response = requests.get(fake.feed_url("contoso", "main"), timeout=TIMEOUT)
    assert response.status_code == 401
    raw = response.raw.headers.getlist("WWW-Authenticate")
    assert f"Bearer authorization_uri={fake.base_url}/{fake.default_tenant}" in raw
    assert f'Basic realm="{fake.base_url}/"' in raw
    assert "TFS-Federated" in raw
    assert response.headers["X-VSS-ResourceTenant"] == fake.default_tenant
    assert response.headers["X-VSS-AuthorizationEndpoint"] == f"{fake.base_url}/contoso/"
    assert fake.count("simple", status=401, auth_kind="anonymous") == 1


def test_session_token_reads_the_index_and_downloads_a_valid_wheel(fake: FakeAzure) -> None:
    secret = session_token(fake, "contoso")
    auth = ("anyone", secret)
    index = requests.get(fake.feed_url("contoso", "main") + "demo-pkg/", auth=auth, timeout=TIMEOUT)
    assert index.status_code == 200
    href = index.text.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    wheel = requests.get(href.split("#", 1)[0], auth=auth, timeout=TIMEOUT)
    assert wheel.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(wheel.content)).namelist()
    assert "demo_pkg/__init__.py" in names
    assert "demo_pkg-1.0.0.dist-info/RECORD" in names
    assert fake.count("download", auth_kind="session", status=200) == 1
    assert secret not in repr(fake.requests)


def test_entra_token_of_the_org_tenant_is_accepted_at_the_feed(fake: FakeAzure) -> None:
    response = requests.get(
        fake.feed_url("contoso", "main"),
        headers={"Authorization": f"Bearer {app_token(fake)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert 'href="demo-pkg/"' in response.text


def test_session_token_of_another_org_is_refused(fake: FakeAzure) -> None:
    fake.add_feed("fabrikam", "other", packages={"x": ["1.0"]})
    secret = session_token(fake, "contoso")
    response = requests.get(fake.feed_url("fabrikam", "other"), auth=("u", secret), timeout=TIMEOUT)
    assert response.status_code == 401
    assert fake.count("simple", org="fabrikam", auth_kind="invalid") == 1


def test_entra_token_of_another_tenant_is_refused(fake: FakeAzure) -> None:
    fake.add_feed("fabrikam", "other")
    fake.add_org("fabrikam", tenant="11111111-2222-4333-8444-555555555555")
    response = requests.get(
        fake.feed_url("fabrikam", "other"),
        headers={"Authorization": f"Bearer {app_token(fake)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401
    assert "11111111-2222-4333-8444-555555555555" in response.headers["WWW-Authenticate"]


def test_read_scoped_session_token_cannot_upload(fake: FakeAzure) -> None:
    secret = session_token(fake, "contoso", scope="vso.packaging")
    response = requests.post(
        fake.upload_url("contoso", "main"),
        auth=("u", secret),
        data={":action": "file_upload", "name": "new-pkg", "version": "2.0"},
        files={"content": ("new_pkg-2.0-py3-none-any.whl", b"zip")},
        timeout=TIMEOUT,
    )
    assert response.status_code == 403


def test_upload_then_listed_in_the_index(fake: FakeAzure) -> None:
    from keyrings.azure_artifacts.testing import build_wheel

    secret = session_token(fake, "contoso", scope="vso.packaging_write")
    data = build_wheel("new-pkg", "2.0")
    response = requests.post(
        fake.upload_url("contoso", "main"),
        auth=("u", secret),
        data={":action": "file_upload", "name": "new-pkg", "version": "2.0"},
        files={"content": ("new_pkg-2.0-py3-none-any.whl", data)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert ("new-pkg", "2.0") in fake.packages("contoso", "main")
    again = requests.post(
        fake.upload_url("contoso", "main"),
        auth=("u", secret),
        data={":action": "file_upload", "name": "new-pkg", "version": "2.0"},
        files={"content": ("new_pkg-2.0-py3-none-any.whl", data)},
        timeout=TIMEOUT,
    )
    assert again.status_code == 409


def test_wrong_api_version_is_a_400(fake: FakeAzure) -> None:
    response = requests.post(
        f"{fake.base_url}/contoso/_apis/Token/SessionTokens?api-version=9.9",
        json={"scope": "vso.packaging"},
        headers={"Authorization": f"Bearer {app_token(fake)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["typeKey"] == "VssVersionOutOfRangeException"


def test_expired_session_token_is_refused(fake: FakeAzure) -> None:
    secret = session_token(fake, "contoso")
    fake.advance(fake.session_token_lifetime + 1)
    response = requests.get(fake.feed_url("contoso", "main"), auth=("u", secret), timeout=TIMEOUT)
    assert response.status_code == 401


def test_pat_create_list_revoke(fake: FakeAzure) -> None:
    bearer = {"Authorization": f"Bearer {app_token(fake)}"}
    pats = f"{fake.base_url}/contoso/_apis/tokens/pats"
    created = requests.post(
        pats + "?api-version=7.1-preview.1",
        json={
            "displayName": "keyring",
            "scope": "vso.packaging_write",
            "validTo": "2099-01-01T00:00:00.0000000Z",
            "allOrgs": False,
        },
        headers=bearer,
        timeout=TIMEOUT,
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["patTokenError"] == "none"
    pat = body["patToken"]
    assert len(pat["token"]) == 52
    assert pat["validTo"].startswith("2099-01-01")
    listed = requests.get(pats + "?api-version=7.1-preview.1", headers=bearer, timeout=TIMEOUT)
    assert [p["authorizationId"] for p in listed.json()["patTokens"]] == [pat["authorizationId"]]
    assert listed.json()["patTokens"][0]["token"] is None
    ok = requests.get(fake.feed_url("contoso", "main"), auth=("u", pat["token"]), timeout=TIMEOUT)
    assert ok.status_code == 200
    revoked = requests.delete(
        pats + f"?authorizationId={pat['authorizationId']}&api-version=7.1-preview.1",
        headers=bearer,
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 204
    refused = requests.get(fake.feed_url("contoso", "main"), auth=("u", pat["token"]), timeout=TIMEOUT)
    assert refused.status_code == 401


def test_pat_with_bad_scope_is_refused(fake: FakeAzure) -> None:
    response = requests.post(
        f"{fake.base_url}/contoso/_apis/tokens/pats?api-version=7.1-preview.1",
        json={"displayName": "x", "scope": "packaging;write", "allOrgs": False},
        headers={"Authorization": f"Bearer {app_token(fake)}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["patTokenError"] == "invalidScope"


def test_project_scoped_feed_by_name_and_guid(fake: FakeAzure) -> None:
    feed = fake.add_feed("contoso", "proj-feed", project="Web", packages={"lib": ["0.1"]})
    auth = ("u", session_token(fake, "contoso"))
    by_name = requests.get(fake.feed_url("contoso", "proj-feed", project="web"), auth=auth, timeout=TIMEOUT)
    assert by_name.status_code == 200
    guid_url = f"{fake.base_url}/contoso/{feed.project_id}/_packaging/{feed.feed_id}/pypi/simple/lib/"
    by_guid = requests.get(guid_url, auth=auth, timeout=TIMEOUT)
    assert by_guid.status_code == 200
    assert f"/contoso/{feed.project_id}/_packaging/{feed.feed_id}/pypi/download/lib/0.1/" in by_guid.text
