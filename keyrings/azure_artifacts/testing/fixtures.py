"""pytest fixtures: ``pytest_plugins = ["keyrings.azure_artifacts.testing.fixtures"]``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeAzure


def _seeded() -> FakeAzure:
    fake = FakeAzure()
    fake.add_org("contoso")
    fake.add_feed("contoso", "main", packages={"demo-pkg": ["1.0.0"]})
    return fake


@pytest.fixture
def fake_azure() -> Iterator[FakeAzure]:
    """A fresh fake with org ``contoso``, feed ``main`` and ``demo-pkg==1.0.0``."""
    with _seeded() as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_azure_session() -> Iterator[FakeAzure]:
    """Same as ``fake_azure`` but shared by the whole session (cheaper; state accumulates)."""
    with _seeded() as fake:
        yield fake


@pytest.fixture
def fake_azure_env(fake_azure: FakeAzure, monkeypatch: pytest.MonkeyPatch) -> FakeAzure:
    """``fake_azure`` plus the environment every HTTP client needs to trust its CA.

    Managed-identity variables are cleared so nothing probes 169.254.169.254.
    """
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "PIP_CERT"):
        monkeypatch.setenv(name, fake_azure.ca_path)
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return fake_azure
