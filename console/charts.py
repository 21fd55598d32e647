"""Server-rendered SVG bar charts: no JavaScript, no chart library, readable without styles.

Each bar carries a <title> (date and value), which browsers show on hover and screen readers
read; the chart scales to its container through the viewBox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT, GAP = 300, 80, 2


def _shown(value: Decimal) -> str:
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


def bars(days: Sequence[date], values: Sequence[Decimal], label: str) -> Markup:
    """One bar per day; the tallest bar fills the height, zero days show a hairline."""
    top = max(values, default=Decimal(0)) or Decimal(1)
    step = WIDTH / max(len(values), 1)
    parts = []
    for n, (day, value) in enumerate(zip(days, values, strict=True)):
        height = max(float(value / top) * HEIGHT, 1.0)
        parts.append(
            f'<rect x="{n * step:.1f}" y="{HEIGHT - height:.1f}" width="{step - GAP:.1f}" '
            f'height="{height:.1f}" class="{"bar" if value else "bar zero"}">'
            f"<title>{day:%d.%m}: {escape(_shown(value))}</title></rect>"
        )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}">{"".join(parts)}</svg>'
    )
