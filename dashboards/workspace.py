"""The secretary's workspace home (/workspace/): for each brand the user manages, everything that needs
doing this week and how people rate it, on one page.

It lives in the dashboards layer because it composes brands, evaluations and scores.
"""

import pygal
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from pygal.style import Style

from dashboards import selectors, workspace_selectors
from organizations import rules
from organizations.rules import Action

# Sizes in the chart's own units; the SVG scales to its column, at most 26rem wide (static/css/dashboards.css):
# about 0.95 of this on a 375 px phone and 1.2 on a desktop, so the labels stay readable at both.
CHART_WIDTH, CHART_HEIGHT, CHART_FONT = 340, 200, 14


def _static_svg(root):
    """Drop pygal's script, its stylesheet, its tooltip layer (driven by that script) and its comments: the
    page runs no JavaScript, and static/css/dashboards.css styles every chart once rather than a stylesheet
    inlined in each."""
    for parent in list(root.iter()):
        for child in list(parent):
            dropped = child.tag in ("script", "style", "defs") or "tooltip-overlay" in child.get("class", "")
            if not isinstance(child.tag, str) or dropped:  # a comment's tag is a function
                parent.remove(child)
    return root


def trend_chart(trend: list[workspace_selectors.TrendMonth]) -> str:
    """The monthly score (left axis, 1 to 5) and number of ratings (right axis) as an inline SVG line chart."""
    label = _("Score and number of ratings per month, last 12 months")

    def describe(root):
        root.set("role", "img")
        root.set("aria-label", label)
        for title in root.iter("title"):  # pygal's chart title (its first <title>) says "Pygal"
            title.text = label
            break
        return root

    most = max(month.n for month in trend)
    chart = pygal.Line(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        # Only the sizes matter here (pygal lays the labels out with them); colours are in the stylesheet.
        style=Style(font_family="inherit", label_font_size=CHART_FONT, major_label_font_size=CHART_FONT),
        js=[],
        disable_xml_declaration=True,
        margin=6,
        range=(1, 5),
        y_labels=[1, 2, 3, 4, 5],
        # Four steps on both axes: a multiple of four keeps the right axis's labels whole numbers.
        secondary_range=(0, max(4, -(-most // 4) * 4)),
        x_labels=[month.period for month in trend],
        x_labels_major=[month.period for month in trend[::-3]],  # every third month, ending with this one
        show_minor_x_labels=False,
        truncate_label=-1,
        allow_interruptions=True,  # a month without ratings is a gap, not a fall to zero
        dots_size=3.5,
        show_legend=False,  # the page says which line is which, in HTML
        show_x_guides=False,
    )
    chart.add_xml_filter(_static_svg)
    chart.add_xml_filter(describe)
    chart.add(_("Score"), [month.score for month in trend])
    chart.add(_("Ratings"), [month.n for month in trend], secondary=True)
    return chart.render(is_unicode=True)


@login_required
def workspace_home(request):
    brands = workspace_selectors.workspace_brands(user=request.user)
    for brand in brands:
        has_trend = brand.scores is not None and brand.scores.has_trend
        brand.trend_chart = trend_chart(brand.scores.trend) if has_trend else ""
    warnings = selectors.open_warnings_by_brand(brand_ids=[brand.pk for brand in brands])
    for brand in brands:
        brand.open_warnings = warnings.get(brand.pk, [])
    context = {
        "brands": brands,
        "can_file": rules.can_any(request.user, Action.MANAGE),
        "support_cases": selectors.cases_for_workspace(user=request.user),
    }
    return render(request, "workspace/home.html", context)
