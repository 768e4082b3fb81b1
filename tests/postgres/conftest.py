"""PostgreSQL tests, like unit tests, talk to no Prefect server."""

from tests.unit.conftest import _no_temporary_prefect_server_for_events  # noqa: F401  (autouse)
