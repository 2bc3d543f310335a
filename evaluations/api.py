"""API of the rating loop: anonymous submission and tracking, scoped rectifications for secretaries."""

import copy

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.selectors import brand_public_get
from config.api import JSONOnlyNegotiation, JSONParser, field_value
from evaluations import integrity, selectors, services
from evaluations.models import BAD_GRADES, Evaluation, Grade, Rectification
from organizations import rules
from organizations.rules import Action


def _grade_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=Grade.VERY_DISSATISFIED, max_value=Grade.VERY_SATISFIED, **kwargs)


# Input fields of the anonymous submit endpoint, built once (see get_fields below).
_SUBMIT_FIELDS = {
    "overall": _grade_field(),
    "management": _grade_field(required=False, allow_null=True),
    "service": _grade_field(required=False, allow_null=True),
    "quality": _grade_field(required=False, allow_null=True),
    "rater_group": serializers.ChoiceField(choices=Evaluation.RaterGroup.choices, required=False),
    "comment": serializers.CharField(max_length=500, required=False, allow_blank=True),
    "contact": serializers.CharField(max_length=100, required=False, allow_blank=True),
    "altcha": serializers.CharField(max_length=4000, required=False, allow_blank=True, write_only=True),
}


class EvaluationSubmitSerializer(serializers.Serializer):
    """Input of the anonymous submit endpoint."""

    def get_fields(self):
        # Shallow copies of fields built once, rather than DRF's deep copy of class attributes,
        # which runs every field's __init__ again: the busiest endpoint's largest cost after the insert.
        return {name: copy.copy(field) for name, field in _SUBMIT_FIELDS.items()}

    def validate(self, attrs):
        if attrs.get("contact") and attrs["overall"] not in BAD_GRADES:
            raise serializers.ValidationError({"contact": [services.contact_only_for_bad_message()]})
        return attrs


class RectificationPublicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rectification
        fields = ["status", "due_on", "is_overdue", "response", "responded_at", "verdict"]


class EvaluationTrackSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code")
    brand_name = serializers.CharField(source="brand.name")
    contact = serializers.SerializerMethodField()
    comment = serializers.SerializerMethodField()
    counted = serializers.SerializerMethodField()
    rectification = serializers.SerializerMethodField()

    class Meta:
        model = Evaluation
        fields = [
            "receipt",
            "brand",
            "brand_name",
            "overall",
            "management",
            "service",
            "quality",
            "rater_group",
            "comment",
            "contact",
            "rated_on",
            "counted",
            "rectification",
        ]

    def get_contact(self, obj) -> str:
        return services.mask_contact(obj.contact)

    def get_comment(self, obj) -> str:
        return obj.comment

    def get_counted(self, obj) -> bool:
        return obj.state == Evaluation.State.COUNTED

    def get_rectification(self, obj) -> dict | None:
        rectification = selectors.evaluation_rectification(obj)
        return RectificationPublicSerializer(rectification).data if rectification else None


class RectificationSerializer(serializers.ModelSerializer):
    brand = serializers.CharField(source="brand.code")
    brand_name = serializers.CharField(source="brand.name")
    organization = serializers.IntegerField(source="organization_id")
    overall = serializers.IntegerField(source="evaluation.overall")
    comment = serializers.CharField(source="evaluation.comment")
    contact = serializers.SerializerMethodField()

    class Meta:
        model = Rectification
        fields = [
            "id",
            "brand",
            "brand_name",
            "organization",
            "status",
            "due_on",
            "contact_due_on",
            "is_overdue",
            "reopen_count",
            "overall",
            "comment",
            "contact",
            "response",
            "responded_at",
            "verdict",
            "created_at",
        ]

    def get_contact(self, obj) -> str:
        """The callback contact in full for those who must call back (secretaries, staff), masked for others."""
        user = self.context["request"].user
        if rules.can(user, Action.MANAGE, obj.organization):
            return obj.evaluation.contact
        return services.mask_contact(obj.evaluation.contact)


class RespondSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=2000)


def api_signals(request) -> integrity.ClientSignals:
    return integrity.ClientSignals(
        ip=integrity.client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        device_key=request.headers.get("X-Device-Id", "")[:200],
    )


class EvaluationSubmitView(APIView):
    """POST a rating (anonymous, JSON); GET tells whether a proof of work is needed and gives a challenge."""

    authentication_classes: list = []  # anonymous and token-less: no session, so no CSRF
    permission_classes = [AllowAny]
    # JSON in and out only: the contract, and less negotiation on the busiest endpoint.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation

    @extend_schema(
        responses=inline_serializer(
            "ProofOfWorkChallenge", {"pow_required": serializers.BooleanField(), "challenge": serializers.DictField()}
        )
    )
    def get(self, request, code: str):
        brand_public_get(code=code)
        ip = integrity.client_ip(request)
        required = integrity.submissions_from(ip) >= settings.EVALUATION_POW_SOFT_LIMIT
        return Response({"pow_required": required, "challenge": integrity.pow_challenge()})

    @extend_schema(
        request=EvaluationSubmitSerializer,
        responses={
            201: inline_serializer(
                "EvaluationReceipt", {"receipt": serializers.CharField(), "already_rated": serializers.BooleanField()}
            )
        },
    )
    def post(self, request, code: str):
        signals = api_signals(request)
        # One cache round trip: count this attempt (throttles) and read the brand.
        brand_key = selectors.brand_cache_key(code)
        signals.counts = integrity.count_submission(
            ip=signals.ip, brand_code=code, prefetch=(brand_key, *services.SUBMIT_PREFETCH)
        )
        brand = selectors.brand_for_rating(code=code, prefetched=signals.counts.prefetched[brand_key])
        serializer = EvaluationSubmitSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signals.pow_payload = data.get("altcha", "")
        result = services.evaluation_submit(
            brand=brand,
            signals=signals,
            channel=Evaluation.Channel.API,
            overall=data["overall"],
            management=data.get("management"),
            service=data.get("service"),
            quality=data.get("quality"),
            rater_group=data.get("rater_group") or Evaluation.RaterGroup.MASSES,
            comment=data.get("comment", ""),
            contact=data.get("contact", ""),
        )
        return Response(
            {"receipt": result.evaluation.receipt, "already_rated": result.already_rated},
            status=status.HTTP_201_CREATED,
        )


class EvaluationTrackView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=EvaluationTrackSerializer)
    def get(self, request, receipt: str):
        evaluation = selectors.evaluation_get_by_receipt(receipt=receipt)
        return Response(EvaluationTrackSerializer(evaluation).data)


class RectificationListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=RectificationSerializer(many=True))
    def get(self, request):
        queryset = selectors.rectification_list(user=request.user, action=Action.VIEW)
        status_filter = request.query_params.get("status")
        if status_filter:
            status_filter = field_value(
                serializers.ChoiceField(Rectification.Status.choices), request.query_params, "status"
            )
            queryset = queryset.filter(status=status_filter)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        serializer = RectificationSerializer(page, many=True, context={"request": request})
        return paginator.get_paginated_response(serializer.data)


class RectificationRespondView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RespondSerializer, responses=RectificationSerializer)
    def post(self, request, pk: int):
        rectification = selectors.rectification_get(user=request.user, pk=pk, action=Action.MANAGE)
        serializer = RespondSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = services.rectification_respond(
            rectification=rectification, response=serializer.validated_data["response"], actor=request.user
        )
        updated = selectors.rectification_get(user=request.user, pk=updated.pk, action=Action.VIEW)
        return Response(RectificationSerializer(updated, context={"request": request}).data)


urlpatterns = [
    path("brands/<str:code>/evaluations/", EvaluationSubmitView.as_view(), name="api-evaluation-submit"),
    path("evaluations/<str:receipt>/", EvaluationTrackView.as_view(), name="api-evaluation-track"),
    path("rectifications/", RectificationListView.as_view(), name="api-rectification-list"),
    path("rectifications/<int:pk>/respond/", RectificationRespondView.as_view(), name="api-rectification-respond"),
]
