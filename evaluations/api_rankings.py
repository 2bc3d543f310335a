"""API: `GET /api/v1/rankings/?period=YYYY-MM|YYYY-Qn|YYYY|all&domain=&parent=&group=` (public)."""

import hashlib

from django.core.cache import cache
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from evaluations import rankings
from evaluations.models import BrandScore
from evaluations.rankings_filters import RankingFilterForm

RESPONSE_CACHE_SECONDS = 300


class RankingRowSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="brand.code")
    name = serializers.CharField(source="brand.name")
    organization = serializers.CharField(source="organization.name")
    organization_id = serializers.IntegerField()
    mean = serializers.FloatField(source="overall_mean")
    rank = serializers.IntegerField(source="position", allow_null=True)
    rank_change = serializers.SerializerMethodField()
    enough_ratings = serializers.SerializerMethodField()
    grades = serializers.SerializerMethodField()

    class Meta:
        model = BrandScore
        fields = [
            "rank",
            "rank_change",
            "code",
            "name",
            "organization",
            "organization_id",
            "domain",
            "n",
            "mean",
            "score",
            "wilson",
            "net_score",
            "bad_rate",
            "enough_ratings",
            "grades",
        ]

    def get_rank_change(self, row) -> int | None:
        return rankings.ranking_row_change(row)

    def get_enough_ratings(self, row) -> bool:
        return row.position is not None

    def get_grades(self, row) -> dict[str, int]:
        return {str(grade): getattr(row, f"grade_{grade}") for grade in range(5, 0, -1)}


class RankingPagination(PageNumberPagination):
    django_paginator_class = rankings.RankingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema(
    parameters=[
        OpenApiParameter("period", OpenApiTypes.STR, description="YYYY-MM, YYYY-Qn, YYYY or all (default)"),
        OpenApiParameter("domain", OpenApiTypes.STR, description="organization domain; ranks within the domain"),
        OpenApiParameter("parent", OpenApiTypes.INT, description="parent organization id; ranks within it"),
        OpenApiParameter("group", OpenApiTypes.STR, description="rater group: masses, member or sub_org"),
    ]
)
class RankingList(generics.ListAPIView):
    """Ranked brands of one period and scope; brands below the minimum n follow, unranked."""

    permission_classes = [AllowAny]
    serializer_class = RankingRowSerializer
    pagination_class = RankingPagination
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        # The same request gets the same answer until a scoring job commits or a brand's status changes
        # (`rankings_version`); the timeout bounds how long an organization's new name takes to show.
        digest = hashlib.sha256(f"{request.build_absolute_uri()}|{rankings.rankings_version()}".encode()).hexdigest()
        key = f"rankings:api:{digest}"
        data = cache.get(key)
        if data is None:
            data = super().list(request, *args, **kwargs).data
            cache.set(key, data, RESPONSE_CACHE_SECONDS)
        return Response(data)

    def get_queryset(self):
        form = RankingFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return rankings.ranking_rows(**form.filters())


urlpatterns = [
    path("rankings/", RankingList.as_view(), name="api-ranking-list"),
]
