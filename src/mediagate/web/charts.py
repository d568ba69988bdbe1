"""The console's per-day charts: the usage API's rows as the columns ``static/charts.js`` draws
with uPlot, and, beside each chart, the same numbers as a table (``_chart.html``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import msgspec

Row = TypeVar("Row")


class Series(msgspec.Struct):
    label: str
    values: list[int]
    unit: Literal["count", "micros"] = "count"  # micros: money, on the right-hand axis
    kind: Literal["line", "bars"] = "line"


class DayChart(msgspec.Struct):
    days: list[str]  # YYYY-MM-DD (UTC), oldest first
    series: list[Series]
    left: str = ""  # the left axis's label

    def spec(self) -> str:
        """What the chart's ``data-chart`` attribute carries (charts.js reads it)."""
        return msgspec.json.encode(self).decode()


def day_chart(
    rows: Sequence[Row],
    day: Callable[[Row], str],
    columns: Sequence[tuple[str, Callable[[Row], int], Literal["count", "micros"]]],
    left: str = "",
) -> DayChart:
    """A chart of ``rows`` (one a day): a line for each count, bars for money."""
    ordered = sorted(rows, key=day)
    return DayChart(
        days=[day(r) for r in ordered],
        series=[
            Series(label, [value(r) for r in ordered], unit, "bars" if unit == "micros" else "line")
            for label, value, unit in columns
        ],
        left=left,
    )
