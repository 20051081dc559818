"""Issue 8 item 5, run last: after the whole battery, the planted Impilo key (and the
webhook secret) appear nowhere, neither in the database, nor in any log, nor in any page
fetched; the planted patient's name appears only where patient data belongs: the
database, and pages fetched by signed-in roles, never a log or an anonymous answer."""

from verify.context import PLANTED_LAST, Context
from verify.report import Row
from verify.web import PAGES


def run(ctx: Context) -> list[Row]:
    from django.db import connection

    connection.close()  # the dump reads a quiet database
    stack = ctx.stack
    dump = stack.db.dump_text()
    logs = stack.logs_text() + b"\n".join(
        p.read_bytes() for p in stack.folder.glob("*.log") if p not in stack.log_paths
    )
    pages = list(PAGES)
    rows = []
    for label, secret in (
        ("Impilo API key", ctx.planted_key),
        ("webhook secret", stack.webhook_secret),
    ):
        needle = secret.encode()
        in_pages = [url for _, url, body in pages if needle in body]
        counts = (dump.count(needle), logs.count(needle), len(in_pages))
        rows.append(
            Row(
                f"secrets: {label}",
                f"planted value searched in the {stack.db.kind} dump ({len(dump) // 1024} KiB), "
                f"{len(logs) // 1024} KiB of logs, {len(pages)} pages",
                "0 everywhere",
                f"database {counts[0]}, logs {counts[1]}, pages {counts[2]}"
                + (f" e.g. {in_pages[0]}" if in_pages else ""),
                counts == (0, 0, 0),
            )
        )
    name = PLANTED_LAST.encode()
    in_logs = logs.count(name)
    anonymous = [url for who, url, body in pages if who == "anonymous" and name in body]
    signed_in = sum(1 for who, _, body in pages if who != "anonymous" and name in body)
    rows.append(
        Row(
            "secrets: patient name",
            "planted patient ordered for throughout; searched in database, logs, pages",
            "in the database and signed-in pages; 0 in logs; 0 in anonymous answers",
            f"database {dump.count(name)}, signed-in pages {signed_in}, logs {in_logs}, "
            f"anonymous answers {len(anonymous)}" + (f" e.g. {anonymous[0]}" if anonymous else ""),
            in_logs == 0 and not anonymous and dump.count(name) > 0 and signed_in > 0,
        )
    )
    return rows
