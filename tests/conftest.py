pytest_plugins = ["keyrings.azure_artifacts.testing.fixtures"]
