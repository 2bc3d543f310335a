"""The dashboard's Excel workbook and CSV files: the same rows, one sheet (or file) each.

Sheets: the scope's ranking (the rankings API's rows for the same subtree and period), the drill-down
table, the period's rectifications and the open warnings. Headers are in Chinese whatever the page's
language: the file is passed around the department.
"""

import csv
import io
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dashboards import selectors
from scores import selectors as score_selectors

SHEETS = ("ranking", "children", "rectifications", "warnings")
# Short headers of the ranking's columns (the CSV's field names; their full meanings are in fields.csv).
RANKING_HEADERS = {
    "rank": gettext_lazy("Rank"),
    "rank_change": gettext_lazy("Change in rank"),
    "code": gettext_lazy("Brand code"),
    "brand": gettext_lazy("Brand"),
    "organization": gettext_lazy("Organization"),
    "domain": gettext_lazy("Domain"),
    "n": gettext_lazy("Ratings"),
    "mean": gettext_lazy("Mean grade"),
    "score": gettext_lazy("Score"),
    "wilson": gettext_lazy("Satisfied, at least (95%)"),
    "net_score": gettext_lazy("Net score"),
    "bad_rate": gettext_lazy("Bad-review rate"),
    "verified_share": gettext_lazy("Verified share"),
    "grade_5": gettext_lazy("Grade 5"),
    "grade_4": gettext_lazy("Grade 4"),
    "grade_3": gettext_lazy("Grade 3"),
    "grade_2": gettext_lazy("Grade 2"),
    "grade_1": gettext_lazy("Grade 1"),
    "status": gettext_lazy("Status"),
    "m": gettext_lazy("Prior weight m"),
    "C": gettext_lazy("Mean grade C"),
}


@dataclass
class Sheet:
    name: str
    title: str
    headers: list[str]
    rows: list[list]
    formats: dict[int, str]  # column index → Excel number format


def _ratio(value):
    return None if value is None else round(value, 4)


def _ranking(node, period: str) -> Sheet:
    rows = selectors.scope_ranking_rows(node=node, period=period)
    prior = score_selectors.Ranking(period=period, subtree=node.pk).prior
    headers = [str(RANKING_HEADERS[field.name]) for field in score_selectors.CSV_FIELDS]
    values = [score_selectors.ranking_csv_values(row, prior) for row in rows]
    return Sheet("ranking", _("Ranking"), headers, values, {7: "0.00", 8: "0.000", 9: "0.000", 11: "0.0%", 12: "0.0%"})


def _children(node, code: int, previous) -> Sheet:
    figures = selectors.node_figures(node=node, code=code, previous=previous)
    headers = [
        _("Organization"),
        _("Public brands"),
        _("Grassroots organizations with a public brand"),
        _("Ratings"),
        _("Verified share"),
        _("Mean grade"),
        _("Score"),
        _("Bad-review rate"),
        _("Rectifications opened"),
        _("Still open"),
        _("Overdue"),
        _("Answered on time"),
        _("Plan progress"),
        _("Held ratings"),
        _("Flagged ratings"),
    ]
    rows = []
    for organization, current, _previous in [(node, figures["current"], None), *figures["children"]]:
        rows.append(
            [
                organization.name,
                current.public_brands,
                _ratio(current.coverage_share),
                current.n,
                _ratio(current.verified_share),
                _ratio(current.mean),
                _ratio(current.score),
                _ratio(current.bad_rate),
                current.get("rect_opened"),
                current.get("rect_open"),
                current.get("rect_overdue"),
                _ratio(current.on_time_rate),
                _ratio(current.plan_progress),
                current.get("held"),
                current.get("flagged"),
            ]
        )
    formats = {3: "0.0%", 5: "0.0%", 6: "0.00", 7: "0.000", 8: "0.0%", 12: "0.0%", 13: "0.0%"}
    return Sheet("children", _("Organizations"), headers, rows, formats)


def _rectifications(node, period: str) -> Sheet:
    headers = [_("Brand"), _("Organization"), _("Status"), _("Opened"), _("Due"), _("Overdue"), _("Answered")]
    headers += [_("Grade"), _("Comment")]
    rows = [
        [
            r.brand.name,
            r.organization.name,
            str(r.get_status_display()),
            r.created_at.date(),
            r.due_on,
            _("yes") if r.is_overdue else _("no"),
            r.responded_at.date() if r.responded_at else None,
            r.evaluation.overall,
            r.evaluation.comment,
        ]
        for r in selectors.rectifications_in_scope(node=node, period=period)
    ]
    return Sheet("rectifications", _("Rectifications"), headers, rows, {4: "yyyy-mm-dd", 5: "yyyy-mm-dd"})


def _warnings(user, node) -> Sheet:
    headers = [_("Brand"), _("Organization"), _("Rule"), _("State"), _("Opened"), _("Figures")]
    rows = [
        [
            w.brand.name,
            w.organization.name,
            str(w.get_rule_display()),
            str(w.get_state_display()),
            w.opened_at.date(),
            "; ".join(f"{key}={value}" for key, value in w.figures.items()),
        ]
        for w in selectors.warnings_in_scope(user=user, node=node, limit=None)
    ]
    return Sheet("warnings", _("Warnings"), headers, rows, {5: "yyyy-mm-dd"})


def sheets(*, user, node, period: str, code: int, previous_code) -> list[Sheet]:
    with translation.override("zh-hans"):
        return [
            _ranking(node, period),
            _children(node, code, previous_code),
            _rectifications(node, period),
            _warnings(user, node),
        ]


def workbook(all_sheets: list[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in all_sheets:
        ws = book.create_sheet(sheet.title)
        ws.append(sheet.headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append(row)
        ws.freeze_panes = "A2"
        for column, number_format in sheet.formats.items():
            for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = number_format
        for index, header in enumerate(sheet.headers, start=1):
            ws.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(header) * 2 + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_text(sheet: Sheet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(sheet.headers)
    writer.writerows(sheet.rows)
    return "\ufeff" + buffer.getvalue()  # a BOM, so Excel opens the Chinese text as UTF-8
