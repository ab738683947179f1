import os

import pytest
from hypothesis import settings

pytest_plugins = ["keyrings.azure_artifacts.testing.fixtures"]

# Property tests: modest by default so CI stays fast; HYPOTHESIS_PROFILE=fuzz for a long run.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("fuzz", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lead_pending: the fake already refuses like the real service; the product side is being "
        "rebuilt in provider.py territory (expected to fail until then)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("lead_pending") is not None:
            item.add_marker(pytest.mark.xfail(reason="product side pending (provider.py)", strict=False))
