"""PostgreSQL and Redis for tests that are about them: started if stopped, a loud skip only when not installed."""

from __future__ import annotations

import pytest

from devstack import local_services


def ensure_postgres() -> tuple[str, int]:
    """PostgreSQL's address, started if needed."""
    try:
        return local_services.ensure_postgres()
    except local_services.ServiceNotInstalled as missing:
        pytest.skip(f"{str(missing).upper()}: this test needs it")
    except RuntimeError as error:
        pytest.fail(str(error))


def ensure_redis() -> tuple[str, int]:
    """Redis's address, started if needed."""
    try:
        return local_services.ensure_redis()
    except local_services.ServiceNotInstalled as missing:
        pytest.skip(f"{str(missing).upper()}: this test needs it")
    except RuntimeError as error:
        pytest.fail(str(error))
