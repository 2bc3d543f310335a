"""Number formats of the dashboard: shares as percentages, changes with their sign, "–" for nothing."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    if value is None or value == "":
        return "–"
    return f"{100 * float(value):.{int(digits)}f}%"


@register.filter
def number(value, digits: int = 2) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value):.{int(digits)}f}"


@register.filter
def signed(value, digits: int = 2) -> str:
    """A change: +0.12 / −0.05 / ±0; "–" when it cannot be computed."""
    if value is None:
        return "–"
    value = float(value)
    if abs(value) < 0.5 * 10 ** -int(digits):
        return "±0"
    return f"{'+' if value > 0 else '−'}{abs(value):.{int(digits)}f}"


@register.filter
def signed_percent(value) -> str:
    """A change of a share, in percentage points."""
    if value is None:
        return "–"
    return signed(100 * float(value), 1) + " pp"


@register.filter
def change(pair) -> object:
    """(current, previous) → current − previous, or None."""
    current, previous = pair
    if current is None or previous is None:
        return None
    return current - previous


@register.simple_tag
def delta(current, previous, attribute: str):
    """The change of ``attribute`` between two Figures (None where either is missing)."""
    if current is None or previous is None:
        return None
    now, before = getattr(current, attribute), getattr(previous, attribute)
    if callable(now):
        now, before = now(), before()
    if now is None or before is None:
        return None
    return now - before


@register.simple_tag
def count(figures, key: str) -> int:
    return figures.get(key) if figures is not None else 0
