"""API of the rating loop: anonymous submission and tracking, scoped rectifications for secretaries."""

import copy

from django.conf import settings
from django.urls import path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from brands.selectors import brand_public_get
from config.api import JSONOnlyNegotiation, JSONParser, field_value
from config.links import absolute_url
from evaluations import integrity, policy, selectors, services
from evaluations.models import Evaluation, Grade, Rectification
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
    # A one-time rating code from a service encounter (一次一评): the rating is then verified.
    "code": serializers.CharField(max_length=40, required=False, allow_blank=True, write_only=True),
}


class EvaluationSubmitSerializer(serializers.Serializer):
    """Input of the anonymous submit endpoint."""

    def get_fields(self):
        # Shallow copies of fields built once, rather than DRF's deep copy of class attributes,
        # which runs every field's __init__ again: the busiest endpoint's largest cost after the insert.
        return {name: copy.copy(field) for name, field in _SUBMIT_FIELDS.items()}

    def validate(self, attrs):
        problem = policy.contact_problem(overall=attrs["overall"], contact=attrs.get("contact", ""))
        if problem:
            raise serializers.ValidationError({"contact": [problem]})
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
    status = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
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
            "status",
            "verified",
            "reasons",
            "rectification",
        ]

    def get_contact(self, obj) -> str:
        return services.mask_contact(obj.contact)

    def get_comment(self, obj) -> str:
        return obj.comment

    def get_counted(self, obj) -> bool:
        return obj.state == Evaluation.State.COUNTED

    def get_status(self, obj) -> str:
        """counted, held (for review), repeat or excluded: see ``selectors.receipt_standing``."""
        return selectors.receipt_standing(obj).status

    def get_reasons(self, obj) -> list[dict]:
        return [{"code": code, "text": words} for code, words in selectors.receipt_standing(obj).reasons]

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
    """The client's signals; its device is the ``X-Device-Id`` this server issued (GET), else its address alone."""
    return integrity.ClientSignals(
        ip=integrity.client_ip(request),
        device_key=integrity.device_key_from_token(request.headers.get("X-Device-Id", "")[:300]),
    )


class EvaluationSubmitView(APIView):
    """POST a rating (anonymous, JSON); GET gives a device id, a challenge and whether a proof of work is needed."""

    authentication_classes: list = []  # anonymous and token-less: no session, so no CSRF
    permission_classes = [AllowAny]
    # JSON in and out only: the contract, and less negotiation on the busiest endpoint.
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnlyNegotiation

    @extend_schema(
        responses=inline_serializer(
            "ProofOfWorkChallenge",
            {
                "pow_required": serializers.BooleanField(),
                "challenge": serializers.DictField(),
                "device_id": serializers.CharField(),
            },
        )
    )
    def get(self, request, code: str):
        brand_public_get(code=code)
        ip = integrity.client_ip(request)
        required = policy.proof_of_work_required(earlier_from_ip=integrity.submissions_from(ip))
        return Response(
            {"pow_required": required, "challenge": integrity.pow_challenge(), "device_id": integrity.device_token()}
        )

    @extend_schema(
        request=EvaluationSubmitSerializer,
        responses={
            201: inline_serializer(
                "EvaluationReceipt",
                {
                    "receipt": serializers.CharField(),
                    "already_rated": serializers.BooleanField(),
                    "status": serializers.ChoiceField(choices=selectors.RECEIPT_STATUSES),
                    "verified": serializers.BooleanField(),
                    "reasons": serializers.ListField(child=serializers.CharField()),
                    "message": serializers.CharField(),
                },
            )
        },
    )
    def post(self, request, code: str):
        signals = api_signals(request)
        # One cache round trip: count this attempt (throttles) and read the brand.
        brand_key = selectors.brand_cache_key(code)
        signals.counts = integrity.count_submission(
            ip=signals.ip, brand_code=code, prefetch=(brand_key, *services.submit_prefetch(code))
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
            rating_code=data.get("code", ""),
        )
        standing = selectors.receipt_standing(result.evaluation)
        return Response(
            {
                "receipt": result.evaluation.receipt,
                "already_rated": result.already_rated,
                "status": standing.status,
                "verified": result.evaluation.verified,
                "reasons": [reason for reason, _label in standing.reasons],
                "message": standing.message,
            },
            status=status.HTTP_201_CREATED,
        )


class EvaluationTrackView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses=EvaluationTrackSerializer)
    def get(self, request, receipt: str):
        evaluation = selectors.evaluation_get_by_receipt(receipt=receipt)
        return Response(EvaluationTrackSerializer(evaluation).data)


@extend_schema(
    parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=Rectification.Status.values)],
)
class RectificationListView(generics.ListAPIView):
    """The rectifications of the organizations the caller may see, one page at a time (``?page=``)."""

    permission_classes = [IsAuthenticated]
    serializer_class = RectificationSerializer
    # A generic view, so that the document describes the paginated page the view answers with.
    pagination_class = PageNumberPagination
    filter_backends: list = []

    def get_queryset(self):
        queryset = selectors.rectification_list(user=self.request.user, action=Action.VIEW)
        if self.request.query_params.get("status"):
            status_filter = field_value(
                serializers.ChoiceField(Rectification.Status.choices), self.request.query_params, "status"
            )
            queryset = queryset.filter(status=status_filter)
        return queryset


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


class RatingCodeIssueSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, required=False, default=1)
    valid_days = serializers.IntegerField(min_value=1, required=False)

    def validate_count(self, value: int) -> int:
        if value > settings.RATING_CODE_BATCH_MAX:
            raise serializers.ValidationError(
                _("Issue between 1 and %(max)d codes at a time.") % {"max": settings.RATING_CODE_BATCH_MAX}
            )
        return value

    def validate_valid_days(self, value: int) -> int:
        if value > settings.RATING_CODE_MAX_DAYS:
            raise serializers.ValidationError(
                _("Codes can be valid for 1 to %(max)d days.") % {"max": settings.RATING_CODE_MAX_DAYS}
            )
        return value


class RatingCodeIssueView(APIView):
    """Issue one-time rating codes for a brand (a counter system asks for one per encounter); shown this once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RatingCodeIssueSerializer,
        responses={
            201: inline_serializer(
                "RatingCodeBatch",
                {
                    "batch": serializers.IntegerField(),
                    "expires_at": serializers.DateTimeField(),
                    "codes": serializers.ListField(child=serializers.DictField()),
                },
            )
        },
    )
    def post(self, request, code: str):
        brand = selectors.rating_code_brand_get(user=request.user, code=code)
        serializer = RatingCodeIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        batch, codes = services.rating_codes_issue(
            brand=brand,
            actor=request.user,
            count=data["count"],
            valid_days=data.get("valid_days") or settings.RATING_CODE_VALID_DAYS,
            channel="api",
        )
        rate_path = reverse("evaluations:rate", args=[brand.code])
        body = {
            "batch": batch.pk,
            "expires_at": serializers.DateTimeField().to_representation(batch.expires_at),
            "codes": [
                {"code": services.rating_code_display(c), "rate_url": absolute_url(f"{rate_path}?c={c}", request)}
                for c in codes
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


urlpatterns = [
    path("brands/<str:code>/evaluations/", EvaluationSubmitView.as_view(), name="api-evaluation-submit"),
    path("brands/<str:code>/rating-codes/", RatingCodeIssueView.as_view(), name="api-rating-codes"),
    path("evaluations/<str:receipt>/", EvaluationTrackView.as_view(), name="api-evaluation-track"),
    path("rectifications/", RectificationListView.as_view(), name="api-rectification-list"),
    path("rectifications/<int:pk>/respond/", RectificationRespondView.as_view(), name="api-rectification-respond"),
]
