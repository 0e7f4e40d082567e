"""PostgreSQL and Redis for tests that are about them: started if stopped, a loud skip only when not installed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devstack import local_services


def _ensure(start: Callable[[], tuple[str, int]]) -> tuple[str, int]:
    try:
        return start()
    except local_services.ServiceNotInstalled as missing:
        pytest.skip(f"{str(missing).upper()}: this test needs it")
    except RuntimeError as error:
        pytest.fail(str(error))


def ensure_postgres() -> tuple[str, int]:
    """PostgreSQL's address, started if needed."""
    return _ensure(local_services.ensure_postgres)


def ensure_redis() -> tuple[str, int]:
    """Redis's address, started if needed."""
    return _ensure(local_services.ensure_redis)
