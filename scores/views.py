"""Public pages: `/rankings/` (ranked brands with filters), its CSV download and the CSV field dictionary."""

import csv

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from config import pagecache
from organizations.selectors import organization_parents
from scores import selectors
from scores.filters import RankingFilterForm


def _csv_response(filename: str) -> tuple[HttpResponse, csv.writer]:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # lets Excel read UTF-8 Chinese
    return response, csv.writer(response)


def ranking_page(request):
    topics = ("brands", "organizations", "scores")
    return pagecache.cached_page(request, topics=topics, render=lambda: _ranking_page(request))


def _ranking_page(request):
    form = RankingFilterForm(request.GET)
    page = ranking = None
    if form.is_valid():
        ranking = selectors.ranking(**form.filters())
        page = Paginator(ranking, 50).get_page(request.GET.get("page"))
        for row in page.object_list:
            row.bar = selectors.grade_bar(row)
            row.change_lost = -row.rank_change if row.rank_change else None
            row.tentative = selectors.score_is_tentative(row, ranking.prior)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "prior": ranking.prior if ranking else None,
        "periods": selectors.ranking_periods(),
        "parents": organization_parents(),
        "query": query.urlencode(),
        "fields": selectors.CSV_FIELDS,
    }
    return render(request, "scores/rankings.html", context, status=200 if form.is_valid() else 400)


def ranking_csv(request):
    form = RankingFilterForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "scores/rankings.html",
            {"form": form, "periods": selectors.ranking_periods(), "fields": selectors.CSV_FIELDS},
            status=400,
        )
    filters = form.filters()
    ranking = selectors.ranking(**filters)
    response, writer = _csv_response(f"rankings-{filters['period']}.csv")
    writer.writerow([field.name for field in selectors.CSV_FIELDS])
    for row in ranking:
        writer.writerow(selectors.ranking_csv_values(row, ranking.prior))
    return response


def ranking_fields_csv(request):
    response, writer = _csv_response("rankings-fields.csv")
    writer.writerow([_("field"), _("meaning")])
    for field in selectors.CSV_FIELDS:
        writer.writerow([field.name, str(field.meaning)])
    return response


urlpatterns = [
    path("", ranking_page, name="rankings"),
    path("rankings.csv", ranking_csv, name="rankings-csv"),
    path("fields.csv", ranking_fields_csv, name="rankings-fields-csv"),
]
