import os

from hypothesis import settings

pytest_plugins = ["keyrings.azure_artifacts.testing.fixtures"]

# Property tests: modest by default so CI stays fast; HYPOTHESIS_PROFILE=fuzz for a long run.
settings.register_profile("ci", max_examples=300, deadline=None)
settings.register_profile("fuzz", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
