"""
The public port, as clients meet it: nginx in front of the three instances
of a running stack (tests/stack/test_stack.py starts one and runs these tests
against it). Settings come from the environment:

    PUBLIC_URL     nginx, e.g. http://127.0.0.1:8080 (the base URL)
    APP_URLS       the instances, comma-separated (to look behind nginx)
    DATABASE_URL   the stack's PostgreSQL (psql is used for bulk setup)
    RUN_DIR        the stack's run directory (app logs)

Only the standard library is used besides pytest.
"""

import os

import pytest

import http_util


def _need(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run through tests/stack/test_stack.py")
    return value


@pytest.fixture(scope="session")
def public():
    return http_util.Client(_need("PUBLIC_URL"))


@pytest.fixture(scope="session")
def instances():
    return [http_util.Client(u) for u in _need("APP_URLS").split(",")]


@pytest.fixture(scope="session")
def database_url():
    return _need("DATABASE_URL")


@pytest.fixture(scope="session")
def run_dir():
    return _need("RUN_DIR")
