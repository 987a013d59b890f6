"""How the evidence summary writes its figures, in report.html and report.md alike."""

from __future__ import annotations


def fmt_number(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.3g}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f} %".replace("-", "−")


def fmt_p(value: float | None) -> str:
    if value is None:
        return "not tested"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
