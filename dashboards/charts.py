"""The dashboard's charts: server-rendered SVG (pygal), no JavaScript; each has a table beside it in the page.

pygal inlines a stylesheet and a configuration script in every chart; the page's Content-Security-Policy
refuses both (no 'unsafe-inline'), so they are taken out here and static/css/dashboard-home.css styles the
charts instead. The Style below still gives pygal the font sizes it lays the labels out with.
"""

import hashlib

import pygal
from django.core.cache import cache
from django.utils import translation
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


# A chart's SVG is kept this long under a key made of everything it draws; the same figures are drawn once.
CHART_SECONDS = 3600


def _render(name: str, chart, x_labels: list[str], series: list[tuple[str, list]]) -> str:
    """The chart with its lines or bars (label, values), from the cache when these very figures were drawn.

    The key is what the chart shows (its name, language, title, labels and values), so new figures
    (a fold, the nightly refresh, another node or period) are a new key and nothing needs invalidating.
    """
    drawn = repr((name, translation.get_language(), str(chart.config.title), x_labels, series))
    key = "dashboards:chart:" + hashlib.sha256(drawn.encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        chart.x_labels = x_labels
        for label, values in series:
            chart.add(label, values)
        chart.add_xml_filter(_static_svg)
        svg = chart.render(is_unicode=True)
        cache.set(key, svg, CHART_SECONDS)
    return svg


def volume(series) -> str:
    chart = pygal.Bar(title=_("Ratings per month"), **COMMON)
    labels = [key[2:] for key, _figures in series]
    return _render("volume", chart, labels, [(_("Ratings"), [figures.n for _key, figures in series])])


def score_with_interval(series) -> str:
    chart = pygal.Line(
        title=_("Mean grade with its interval (95 percent)"),
        range=(1, 5),
        # The stylesheet draws this chart's second and third lines (the interval's bounds) dashed.
        classes=["pygal-chart", "chart-interval"],
        **{**COMMON, "show_legend": True},
    )
    labels = [key[2:] for key, _figures in series]
    intervals = [figures.interval for _key, figures in series]
    lines = [
        (_("Mean grade"), [figures.mean for _key, figures in series]),
        (_("Low"), [interval[0] if interval else None for interval in intervals]),
        (_("High"), [interval[1] if interval else None for interval in intervals]),
    ]
    return _render("score", chart, labels, lines)


def bad_rate(series) -> str:
    chart = pygal.Line(title=_("Bad-review rate"), value_formatter=lambda v: f"{v:.1%}", **COMMON)
    labels = [key[2:] for key, _figures in series]
    return _render("bad_rate", chart, labels, [(_("Bad-review rate"), [figures.bad_rate for _key, figures in series])])


def grades(figures) -> str:
    chart = pygal.HorizontalBar(title=_("Grades"), **COMMON)
    distribution = figures.group_grades()
    labels = [str(grade) for grade in (1, 2, 3, 4, 5)]
    return _render("grades", chart, labels, [(_("Ratings"), [distribution[grade] for grade in (1, 2, 3, 4, 5)])])


def groups(rows) -> str:
    chart = pygal.Bar(title=_("Mean grade by rater group"), range=(1, 5), **COMMON)
    labels = [str(row["label"]) for row in rows]
    return _render("groups", chart, labels, [(_("Mean grade"), [row["mean"] for row in rows])])
