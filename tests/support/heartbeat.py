"""A periodic job for worker subprocess tests: one database query, then one line in a file.

A line appears only when the query worked, so new lines after an outage prove the worker's
periodic thread survived it and found the database again.
"""

import os
from pathlib import Path

from django.db import connection


def beat() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    with Path(os.environ["HEARTBEAT_FILE"]).open("a") as out:
        out.write("beat\n")
