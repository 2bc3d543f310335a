"""The product's URLs plus the benchmarks' two baselines, B and T (bench/submit.py).

- ``/bench/raw/`` (B): a bare Django view that inserts one row with raw SQL; the floor of a write.
- ``/bench/bare/`` (T): a bare template view; a few lines extending ``base.html`` (navigation, footer,
  static URLs, translations), rendered with the request's context processors and no query of its own.
  Anonymous, it runs no query at all; with a session cookie the navigation reads the session, the user
  and their roles, as every page does.
"""

import json

from django.db import connection
from django.http import HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as product_urlpatterns

# Compiled once, as the cached template loader does for the product's templates (DEBUG off).
BARE_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% load i18n %}'
    '{% block title %}{% translate "Brands" %}{% endblock %}'
    '{% block content %}<h1 class="h3">{% translate "Brands" %}</h1><p>{{ note }}</p>{% endblock %}'
)


@csrf_exempt
def raw_insert(request):
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_raw_row (device, overall, created_at) VALUES (%s, %s, now()) RETURNING id",
            [request.headers.get("X-Device-Id", "")[:64], int(body.get("overall", 5))],
        )
        row_id = cursor.fetchone()[0]
    return HttpResponse(json.dumps({"id": row_id}), status=201, content_type="application/json")


def bare_template(request):
    return HttpResponse(BARE_TEMPLATE.render({"note": "bench"}, request))


urlpatterns = [path("bench/raw/", raw_insert), path("bench/bare/", bare_template), *product_urlpatterns]
