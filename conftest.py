"""Repository-wide pytest setup: the shared database fixtures."""

pytest_plugins = ["factflow_infra.testing.pytest_plugin"]
