"""The dashboard's charts: server-rendered SVG (pygal), no JavaScript; each has a table beside it in the page.

pygal inlines a stylesheet and a configuration script in every chart; the page's Content-Security-Policy
refuses both (no 'unsafe-inline'), so they are taken out here and static/css/dashboard-home.css styles the
charts instead. The Style below still gives pygal the font sizes it lays the labels out with.
"""

import pygal
from django.utils.translation import gettext as _
from pygal.style import Style

RED = "#b71c1c"
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=(RED, "#e57373", "#546e7a", "#ffb300", "#6d4c41"),
    font_family="system-ui, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=11,
    title_font_size=13,
)


def _static_svg(root):
    """Drop pygal's script, stylesheet, tooltip layer (driven by that script) and comments."""
    for parent in list(root.iter()):
        for child in list(parent):
            dropped = child.tag in ("script", "style", "defs") or "tooltip-overlay" in child.get("class", "")
            if not isinstance(child.tag, str) or dropped:  # a comment's tag is a function
                parent.remove(child)
    return root


COMMON = dict(
    style=STYLE,
    js=[],  # no script: the page's Content-Security-Policy allows none
    disable_xml_declaration=True,
    show_legend=False,
    width=640,
    height=260,
    margin=8,
    print_values=False,
    explicit_size=False,
)


def _render(chart) -> str:
    chart.add_xml_filter(_static_svg)
    return chart.render(is_unicode=True)


def volume(series) -> str:
    chart = pygal.Bar(title=_("Ratings per month"), **COMMON)
    chart.x_labels = [key[2:] for key, _figures in series]
    chart.add(_("Ratings"), [figures.n for _key, figures in series])
    return _render(chart)


def score_with_interval(series) -> str:
    chart = pygal.Line(
        title=_("Mean grade with its interval (95 percent)"),
        range=(1, 5),
        # The stylesheet draws this chart's second and third lines (the interval's bounds) dashed.
        classes=["pygal-chart", "chart-interval"],
        **{**COMMON, "show_legend": True},
    )
    chart.x_labels = [key[2:] for key, _figures in series]
    intervals = [figures.interval for _key, figures in series]
    chart.add(_("Mean grade"), [figures.mean for _key, figures in series])
    chart.add(_("Low"), [interval[0] if interval else None for interval in intervals])
    chart.add(_("High"), [interval[1] if interval else None for interval in intervals])
    return _render(chart)


def bad_rate(series) -> str:
    chart = pygal.Line(title=_("Bad-review rate"), value_formatter=lambda v: f"{v:.1%}", **COMMON)
    chart.x_labels = [key[2:] for key, _figures in series]
    chart.add(_("Bad-review rate"), [figures.bad_rate for _key, figures in series])
    return _render(chart)


def grades(figures) -> str:
    chart = pygal.HorizontalBar(title=_("Grades"), **COMMON)
    distribution = figures.group_grades()
    chart.x_labels = [str(grade) for grade in (1, 2, 3, 4, 5)]
    chart.add(_("Ratings"), [distribution[grade] for grade in (1, 2, 3, 4, 5)])
    return _render(chart)


def groups(rows) -> str:
    chart = pygal.Bar(title=_("Mean grade by rater group"), range=(1, 5), **COMMON)
    chart.x_labels = [str(row["label"]) for row in rows]
    chart.add(_("Mean grade"), [row["mean"] for row in rows])
    return _render(chart)
