"""Orders per day by outcome, drawn on the server as SVG (no JavaScript chart library).

One grouped query (day × state) feeds both the bars and the table of numbers that screen
readers use. The drawing is plain geometry handed to templates/orders/_order_chart.html.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from orderdesk.orders.models import Order, State

DAY_CHOICES = (30, 90)
WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 28


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    states: tuple[str, ...]
    colour: str  # the legend and the table name each series: colour is never the only cue


SERIES = (
    Series("sent", "Sent to Impilo", (State.SUBMITTED, State.RESOLVED), "#198754"),
    Series(
        "progress",
        "In progress",
        (State.QUEUED, State.SENDING, State.RETRY_WAIT, State.UNKNOWN),
        "#0d6efd",
    ),
    Series(
        "problem", "Needs attention", (State.REJECTED, State.FAILED, State.NEEDS_REVIEW), "#dc3545"
    ),
    Series("draft", "Draft", (State.DRAFT,), "#6c757d"),
)
SERIES_OF_STATE = {state: series.key for series in SERIES for state in series.states}


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Day:
    day: date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    @property
    def values(self) -> list[int]:
        return [self.count(series.key) for series in SERIES]


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[Segment]


@dataclass
class Chart:
    days: list[Day]
    span: int
    scale_max: int
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[tuple[float, int]] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_bottom: int = HEIGHT - BOTTOM
    series: tuple[Series, ...] = SERIES

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def series_totals(self) -> list[tuple[str, int]]:
        return [
            (series.label, sum(day.count(series.key) for day in self.days)) for series in SERIES
        ]


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above value (at least 1)."""
    if value <= 1:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def daily_counts(orders: QuerySet[Order], span: int, today: date | None = None) -> list[Day]:
    today = today or timezone.localdate()
    first = today - timedelta(days=span - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        orders.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day", "state")
        .annotate(n=Count("id"))
    )
    counts: dict[date, dict[str, int]] = {}
    for row in rows:
        key = SERIES_OF_STATE.get(row["state"], "draft")
        per_day = counts.setdefault(row["day"], {})
        per_day[key] = per_day.get(key, 0) + row["n"]
    return [
        Day(day=first + timedelta(days=n), counts=counts.get(first + timedelta(days=n), {}))
        for n in range(span)
    ]


def build(orders: QuerySet[Order], span: int, today: date | None = None) -> Chart:
    days = daily_counts(orders, span, today)
    chart = Chart(days=days, span=span, scale_max=nice_max(max((d.total for d in days), default=0)))
    plot_height = chart.plot_bottom - TOP
    slot = (WIDTH - LEFT - RIGHT) / span
    for index, day in enumerate(days):
        x = LEFT + index * slot
        y = float(chart.plot_bottom)
        segments = []
        for series in SERIES:
            n = day.count(series.key)
            if not n:
                continue
            height = plot_height * n / chart.scale_max
            y -= height
            title = f"{day.day:%b %d}: {n} {series.label.lower()}"
            segments.append(Segment(round(y, 2), round(height, 2), series.colour, title))
        chart.bars.append(Bar(round(x + slot * 0.1, 2), round(slot * 0.8, 2), segments))
        if index % (7 if span <= 31 else 15) == 0:
            chart.x_labels.append((round(x + slot / 2, 2), f"{day.day:%b} {day.day.day}"))
    for value in sorted({0, chart.scale_max // 2, chart.scale_max}):
        y = chart.plot_bottom - plot_height * value / chart.scale_max
        chart.y_ticks.append((round(y, 2), value))
    return chart
