"""Test support shipped beside the infrastructure it exercises.

``factflow_infra.testing.pytest_plugin`` provides the ``db`` fixture that runs a
test once on SQLite and once on PostgreSQL, each on a throwaway, migrated
database.  PostgreSQL is found through ``FACTFLOW_TEST_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); when it does not answer the
PostgreSQL half skips with the reason, except under ``CI=true``, where it fails.
"""

from factflow_infra.testing.databases import (
    TEST_POSTGRES_URL_ENV,
    PostgresServer,
    create_pg_database,
    drop_pg_database,
    probe_postgres,
    truncate_all,
)

__all__ = [
    "TEST_POSTGRES_URL_ENV",
    "PostgresServer",
    "create_pg_database",
    "drop_pg_database",
    "probe_postgres",
    "truncate_all",
]
