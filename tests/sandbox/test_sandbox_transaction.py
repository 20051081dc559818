"""The sandbox's own writes commit without waiting for the disk on PostgreSQL (a test
double's data), in a transaction like any other."""

import pytest
from django.db import connection

from orderdesk.sandbox.api import sandbox_transaction

pytestmark = pytest.mark.django_db


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


def test_a_sandbox_transaction_is_atomic_and_on_postgresql_does_not_wait() -> None:
    with sandbox_transaction():
        assert connection.in_atomic_block
        if connection.vendor == "postgresql":
            assert synchronous_commit() == "off"
