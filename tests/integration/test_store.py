"""The job store on PostgreSQL: the store contract of tests/store_contract.py, run on a real server."""

from __future__ import annotations

import pytest

from store_contract import *  # noqa: F401,F403  the contract's tests run here, on PostgreSQL


@pytest.fixture
def store_url(postgres_store_url):
    """A fresh schema on the session's PostgreSQL database."""
    return postgres_store_url
