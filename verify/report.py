"""The one table `make verify` prints: check, what was tried, what must hold, counts, verdict."""

import textwrap
from dataclasses import dataclass

WIDTHS = (22, 38, 34, 52, 6)
HEADER = ("Check", "Tried", "Must hold", "Measured", "Result")


@dataclass
class Row:
    check: str
    tried: str
    must_hold: str
    measured: str
    passed: bool | None  # None: not applicable here (the reason is in `measured`)

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


def table(rows: list[Row]) -> str:
    rule = "+" + "+".join("-" * (w + 2) for w in WIDTHS) + "+"
    out = [rule, _line(HEADER), rule.replace("-", "=")]
    for row in rows:
        out.append(_line((row.check, row.tried, row.must_hold, row.measured, row.verdict)))
        out.append(rule)
    return "\n".join(out)


def _line(cells: tuple[str, ...]) -> str:
    wrapped = [
        textwrap.wrap(text, width) or [""] for text, width in zip(cells, WIDTHS, strict=True)
    ]
    height = max(len(lines) for lines in wrapped)
    lines = []
    for i in range(height):
        parts = [
            (col[i] if i < len(col) else "").ljust(width)
            for col, width in zip(wrapped, WIDTHS, strict=True)
        ]
        lines.append("| " + " | ".join(parts) + " |")
    return "\n".join(lines)
