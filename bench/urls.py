"""The product's URLs plus ``/bench/raw/``: a bare Django view inserting one row with raw SQL (the baseline)."""

import json

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as product_urlpatterns


@csrf_exempt
def raw_insert(request):
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_raw_row (device, overall, created_at) VALUES (%s, %s, now()) RETURNING id",
            [request.headers.get("X-Device-Id", ""), int(body.get("overall", 5))],
        )
        row_id = cursor.fetchone()[0]
    return HttpResponse(json.dumps({"id": row_id}), status=201, content_type="application/json")


urlpatterns = [path("bench/raw/", raw_insert), *product_urlpatterns]
