"""Public pages: `/rankings/` (ranked brands with filters), its CSV download and the CSV field dictionary."""

import csv

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from evaluations import rankings
from evaluations.rankings_filters import RankingFilterForm
from organizations.selectors import organization_parents


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # lets Excel read UTF-8 Chinese
    return response, csv.writer(response)


def ranking_page(request):
    form = RankingFilterForm(request.GET)
    page = None
    if form.is_valid():
        rows = rankings.ranking_rows(**form.filters())
        page = rankings.RankingPaginator(rows, 50).get_page(request.GET.get("page"))
        for row in page.object_list:
            row.bar = rankings.grade_bar(row)
            row.change = rankings.ranking_row_change(row)
            row.change_lost = -row.change if row.change else None
            row.tentative = rankings.score_is_tentative(row)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "periods": rankings.ranking_periods(),
        "parents": organization_parents(),
        "query": query.urlencode(),
        "fields": rankings.CSV_FIELDS,
    }
    return render(request, "evaluations/rankings.html", context, status=200 if form.is_valid() else 400)


def ranking_csv(request):
    form = RankingFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "evaluations/rankings.html",
            {"form": form, "periods": rankings.ranking_periods(), "fields": rankings.CSV_FIELDS},
            status=400,
        )
    filters = form.filters()
    response, writer = _csv_response(f"rankings-{filters['period']}.csv")
    writer.writerow([field.name for field in rankings.CSV_FIELDS])
    for row in rankings.ranking_rows(**filters):
        writer.writerow(rankings.ranking_csv_values(row))
    return response


def ranking_fields_csv(request):
    response, writer = _csv_response("rankings-fields.csv")
    writer.writerow([_("field"), _("meaning")])
    for field in rankings.CSV_FIELDS:
        writer.writerow([field.name, str(field.meaning)])
    return response


urlpatterns = [
    path("", ranking_page, name="rankings"),
    path("rankings.csv", ranking_csv, name="rankings-csv"),
    path("fields.csv", ranking_fields_csv, name="rankings-fields-csv"),
]
