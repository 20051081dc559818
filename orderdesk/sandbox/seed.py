"""Seed the sandbox: sites, items, kits, stock and patients. Idempotent and deterministic.

Every row has a fixed id and patient N is always the same person (one fixed random seed,
drawn in order), so `seed(600)` then `seed(100_000)` adds 99,400 patients and leaves the
first 600 as they were. Existing rows are never changed: stock used by orders stays used.
"""

import random
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Field

from orderdesk.sandbox import seed_data as data
from orderdesk.sandbox.models import (
    Item,
    Kit,
    KitItem,
    Manufacturer,
    Patient,
    Site,
    Stock,
    search_key,
)

RANDOM_SEED = 20240521
BATCH = 2000  # patients per write and per progress report
ANALYZE_AFTER = 5000
Progress = Callable[[int, int], None]


def seed(patients: int = 600, *, progress: Progress | None = None) -> None:
    """Make sure the catalogue and patients 1..`patients` exist; `progress(done, total)`."""
    with transaction.atomic():
        _seed_catalogue()
        added = _seed_patients(patients, progress)
    _reset_sequences()
    if added >= ANALYZE_AFTER:
        # Fresh statistics, or PostgreSQL may plan a sort instead of using the name indexes.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Patient._meta.db_table)}")


def _seed_catalogue() -> None:
    Manufacturer.objects.bulk_create(
        [Manufacturer(id=pk, name=name) for pk, name in data.MANUFACTURERS], ignore_conflicts=True
    )
    Item.objects.bulk_create(
        [
            Item(
                id=pk,
                manufacturer_id=maker,
                name=name,
                model=model,
                sku=f"{pk:07d}",
                orderable=orderable,
                identifier_types=types,
            )
            for pk, maker, name, model, orderable, types in data.ITEMS
        ],
        ignore_conflicts=True,
    )
    Stock.objects.bulk_create(
        [Stock(item_id=item[0], on_hand=data.STOCK_PER_ITEM) for item in data.ITEMS],
        ignore_conflicts=True,
    )
    Kit.objects.bulk_create(
        [
            Kit(id=pk, name=name, archived=archived, loaner=loaner)
            for pk, name, archived, loaner, _ in data.KITS
        ],
        ignore_conflicts=True,
    )
    KitItem.objects.bulk_create(
        [
            KitItem(id=kit_id * 100 + n, kit_id=kit_id, item_id=item_id, count=count)
            for kit_id, *_, contents in data.KITS
            for n, (item_id, count) in enumerate(contents, start=1)
        ],
        ignore_conflicts=True,
    )
    Site.objects.bulk_create([_site(row) for row in data.SITES], ignore_conflicts=True)


def _site(row: tuple[int, str, bool, str, str, str, str, str, str]) -> Site:
    pk, name, active, phone, line_one, line_two, city, state, zip_code = row
    return Site(
        id=pk,
        name=name,
        active=active,
        phone_number=phone,
        line_one=line_one,
        line_two=line_two,
        city=city,
        state=state,
        zip_code=zip_code,
        country="USA",
    )


def _seed_patients(count: int, progress: Progress | None) -> int:
    """Raw rows: building 100,000 model instances and their SQL would cost far more."""
    last_id = data.FIRST_PATIENT_ID + count - 1
    existing = set(
        Patient.objects.filter(id__range=(data.FIRST_PATIENT_ID, last_id)).values_list(
            "id", flat=True
        )
    )
    fields = Patient._meta.concrete_fields
    added, batch = 0, list[tuple[Any, ...]]()
    for number, patient in enumerate(_patients(count), start=1):
        if patient["id"] not in existing:
            batch.append(tuple(patient[field.attname] for field in fields))
        if len(batch) >= BATCH or (number == count and batch):
            _insert(fields, batch)
            added, batch = added + len(batch), []
        if progress and (number % BATCH == 0 or number == count):
            progress(number, count)
    return added


def _insert(fields: Sequence[Field[Any, Any]], rows: list[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    table = quote(Patient._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: several times faster than INSERT for 100,000 rows.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
        cursor.executemany(sql, rows)  # SQLite: no round trips, the fastest way in


def _patients(count: int) -> Iterator[dict[str, object]]:
    """Patient N depends only on the draws before it: prefixes are stable."""
    rng = random.Random(RANDOM_SEED)
    active_sites = [row[0] for row in data.SITES if row[2]]
    inactive_sites = [row[0] for row in data.SITES if not row[2]]
    first_birthday, span = date(1930, 1, 1), (date(2006, 12, 31) - date(1930, 1, 1)).days
    for n in range(1, count + 1):
        first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
        city, state, zip_prefix = rng.choice(data.CITIES)
        on_inactive_site = rng.random() < 0.03
        birthday = first_birthday + timedelta(days=rng.randrange(span))
        yield {
            "id": data.FIRST_PATIENT_ID + n - 1,
            "external_identifier": f"crm-{n:06d}",
            "first_name": first,
            "last_name": last,
            "name_search": search_key(first, last),
            "date_of_birth": connection.ops.adapt_datefield_value(birthday),
            "email": f"{_ascii(first)}.{_ascii(last)}.{n}@example.com",
            "phone_number": f"+1{rng.choice(data.AREA_CODES)}5550{rng.randrange(100, 200)}",
            "archived": rng.random() < 0.05,
            "enrolled": rng.random() >= 0.05,
            "sex": rng.choices(data.SEXES, data.SEX_WEIGHTS)[0],
            "site_id": rng.choice(inactive_sites if on_inactive_site else active_sites),
            "line_one": f"{rng.randrange(1, 9999)} {rng.choice(data.STREETS)}",
            "line_two": rng.choice(data.LINE_TWO) if rng.random() < 0.2 else "",
            "line_three": "",
            "city": city,
            "state": state,
            "zip_code": f"{zip_prefix}{rng.randrange(100):02d}",
            "country": "USA",
            "address_note": rng.choice(data.ADDRESS_NOTES) if rng.random() < 0.05 else "",
        }


def _ascii(name: str) -> str:
    """'Nguyễn' -> 'nguyen', "O'Brien" -> 'obrien': for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    return "".join(char for char in plain.lower() if char.isascii() and char.isalnum())


def _reset_sequences() -> None:
    """Rows were inserted with explicit ids; PostgreSQL's sequences must move past them."""
    models = [Manufacturer, Item, Kit, KitItem, Site, Patient]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
