"""API (public): `GET /api/v1/rankings/?period=&domain=&parent=&group=` and
`GET /api/v1/brands/<code>/scores/?group=`, a brand's monthly series."""

import hashlib
from dataclasses import asdict

from django.core.cache import cache
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from evaluations.selectors import brand_for_rating
from scores import selectors
from scores.filters import RankingFilterForm, SeriesFilterForm

RESPONSE_CACHE_SECONDS = 300


class RankingRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    name = serializers.CharField()
    organization = serializers.CharField()
    organization_id = serializers.IntegerField()
    domain = serializers.CharField()
    n = serializers.IntegerField()
    mean = serializers.FloatField()
    score = serializers.FloatField(allow_null=True, help_text="Bayesian score; null below the minimum n")
    wilson = serializers.FloatField()
    net_score = serializers.FloatField()
    bad_rate = serializers.FloatField()
    verified_share = serializers.FloatField()
    enough_ratings = serializers.SerializerMethodField()
    grades = serializers.DictField(child=serializers.IntegerField())

    def get_enough_ratings(self, row) -> bool:
        return row.rank is not None


class RankingPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        # One query reads the page and counts the scope; a page number that is not one is left to DRF.
        number = request.query_params.get(self.page_query_param, "1")
        if number.isdigit() and int(number) >= 1:
            size = self.get_page_size(request)
            queryset.prefetch(offset=(int(number) - 1) * size, limit=size)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        prior = self.page.paginator.object_list.prior
        response.data["prior"] = {"m": prior.m, "C": prior.mean, "estimated": prior.estimated}
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["prior"] = {
            "type": "object",
            "description": "The prior weight m and period mean C the scores use",
            "properties": {
                "m": {"type": "number"},
                "C": {"type": "number", "nullable": True},
                "estimated": {"type": "boolean"},
            },
        }
        return schema


def _cached(request, version: str, build):
    """The same request gets the same answer until `version` changes (a scoring job, a brand's status,
    an organization's name or place); the timeout bounds anything else."""
    digest = hashlib.sha256(f"{request.build_absolute_uri()}|{version}".encode()).hexdigest()
    key = f"scores:api:{digest}"
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, RESPONSE_CACHE_SECONDS)
    return Response(data)


@extend_schema(
    parameters=[
        OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM, YYYY-Qn, YYYY or all (default)"),
        OpenApiParameter("domain", OpenApiTypes.STR, description="organization domain; ranks within the domain"),
        OpenApiParameter("parent", OpenApiTypes.INT, description="parent organization id; ranks within it"),
        OpenApiParameter("subtree", OpenApiTypes.INT, description="organization id; ranks every brand in its subtree"),
        OpenApiParameter("group", OpenApiTypes.STR, description="rater group: masses, member or sub_org"),
    ]
)
class RankingList(generics.ListAPIView):
    """Ranked brands of one period and scope (equal records share a rank); brands below the minimum n
    follow, with neither score nor rank. `prior` gives the m and C used."""

    permission_classes = [AllowAny]
    serializer_class = RankingRowSerializer
    pagination_class = RankingPagination
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        ranking = self.get_queryset()
        return _cached(request, ranking.version(), lambda: super(RankingList, self).list(request).data)

    def get_queryset(self):
        if not hasattr(self, "_ranking"):
            form = RankingFilterForm(self.request.query_params)
            if not form.is_valid():
                raise ValidationError(form.errors)
            self._ranking = selectors.ranking(**form.filters())
        return self._ranking


class SeriesPointSerializer(serializers.Serializer):
    period = serializers.CharField()
    n = serializers.IntegerField()
    mean = serializers.FloatField()
    score = serializers.FloatField()
    low = serializers.FloatField(allow_null=True, help_text="95% interval of the score, lower end")
    high = serializers.FloatField(allow_null=True, help_text="95% interval of the score, upper end")
    wilson = serializers.FloatField()
    net_score = serializers.FloatField()
    bad_rate = serializers.FloatField()
    verified_share = serializers.FloatField()
    m = serializers.FloatField()
    C = serializers.FloatField()


@extend_schema(
    parameters=[OpenApiParameter("group", OpenApiTypes.STR, description="rater group: masses, member or sub_org")],
    responses=inline_serializer(
        "BrandSeries",
        {"code": serializers.CharField(), "group": serializers.CharField(), "months": SeriesPointSerializer(many=True)},
    ),
)
class BrandSeries(APIView):
    """A public brand's monthly series: n, mean, score with its interval, bad-review rate, each month
    scored against that month's own m and C."""

    permission_classes = [AllowAny]

    def get(self, request, code: str):
        form = SeriesFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        group = form.cleaned_data["group"]

        def build():
            brand = brand_for_rating(code=code)  # the cached public brand (a status change clears it), else 404
            series = selectors.brand_series(brand=brand, rater_group=group)
            # The points hold plain values already: SeriesPointSerializer documents them, and running it
            # over every month would cost as much as reading them.
            return {"code": brand.code, "group": group, "months": [asdict(point) for point in series]}

        return _cached(request, selectors.brand_series_version(code=code), build)


urlpatterns = [
    path("rankings/", RankingList.as_view(), name="api-ranking-list"),
    path("brands/<str:code>/scores/", BrandSeries.as_view(), name="api-brand-scores"),
]
