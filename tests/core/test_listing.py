"""The list pages' shared cursor, query-string and day helpers."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from orderdesk.core import listing

MOMENT = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)


def test_a_time_and_id_cursor_reads_back_exactly() -> None:
    text = listing.encode_time_id(MOMENT, 42)
    assert text.isascii()
    assert not set("=/+") & set(text)  # nothing a URL would need to escape
    assert listing.decode_time_id(text) == (MOMENT, 42)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "%%%garbage\x00",
        "\x00" * 10,
        listing.encode_cursor([MOMENT]),  # too short
        listing.encode_cursor([MOMENT, 1, 2]),  # too long
        listing.encode_cursor(["2026-03-14T09:26:53", 1]),  # no time zone
        listing.encode_cursor([MOMENT, 0]),
        listing.encode_cursor([MOMENT, 2**63]),
        listing.encode_cursor([MOMENT, True]),
        listing.encode_cursor([MOMENT, "7"]),
        listing.encode_cursor([17, 7]),
        "W10",  # an empty list
    ],
)
def test_anything_else_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 -- each message names its own problem
        listing.decode_time_id(text)


def test_query_string_keeps_set_values_in_the_named_order() -> None:
    values = {"b": date(2026, 1, 2), "a": "x y", "c": "", "d": None, "unnamed": "no"}
    assert listing.query_string(values, ["a", "b", "c", "d"]) == "a=x+y&b=2026-01-02"
    assert listing.query_string(values, ["a"], cursor="abc", before="") == "a=x+y&cursor=abc"


def test_day_start_is_midnight_in_the_current_time_zone(settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    start = listing.day_start(date(2026, 7, 1))
    assert timezone.localtime(start).hour == 0
    assert start.utcoffset() is not None
