"""API for brands: list/create/read/update, submit, review, commitments, plan and milestones.

Querysets come from ``brands.selectors`` and writes go through ``brands.services``,
so the API and the pages share one set of rules. Anything outside the caller's
reach is 404.
"""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from brands import images, selectors, services
from brands.models import MILESTONE_WEIGHT_MAX, PLAN_YEARS, Brand, Commitment, Milestone, Plan
from config.api import field_value
from organizations import rules


class ImageUploadField(serializers.ImageField):
    """Write-only upload checked by content (brands.images) and returned normalized."""

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        super().__init__(write_only=True, required=False, **kwargs)

    def to_internal_value(self, data):
        upload = serializers.FileField.to_internal_value(self, data)  # no second Pillow pass
        try:
            return images.normalize(upload, kind=self.kind)
        except Exception as error:
            messages = getattr(error, "messages", None)
            if messages is None:
                raise
            raise ValidationError(messages) from None


class CommitmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Commitment
        fields = ["id", "position", "text"]
        read_only_fields = ["id", "position"]


class ManagedOrganizationField(serializers.PrimaryKeyRelatedField):
    """An organization the caller manages. Any other id, taken or not, gets the same error, so the
    answer does not tell which organizations exist."""

    default_error_messages = {"does_not_exist": _("You can only file brands for organizations you manage.")}

    def get_queryset(self):
        return rules.organizations_for(self.context["request"].user, rules.Action.MANAGE)


class BrandSerializer(serializers.ModelSerializer):
    organization = ManagedOrganizationField()
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    service_targets = serializers.ListField(
        child=serializers.ChoiceField(choices=Brand.ServiceTarget.choices), required=False
    )
    progress_percent = serializers.IntegerField(read_only=True)
    logo_url = serializers.ImageField(source="logo_small", read_only=True, use_url=True)
    cover_url = serializers.ImageField(source="cover_medium", read_only=True, use_url=True)
    logo = ImageUploadField(kind="logo")
    cover = ImageUploadField(kind="cover")

    class Meta:
        model = Brand
        fields = [
            "code",
            "organization",
            "organization_name",
            "name",
            "slogan",
            "concept",
            "carrier",
            "positioning",
            "service_targets",
            "level",
            "status",
            "progress_percent",
            "logo",
            "cover",
            "logo_url",
            "cover_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["code", "status", "created_at", "updated_at"]


class BrandUpdateSerializer(BrandSerializer):
    organization = serializers.PrimaryKeyRelatedField(read_only=True)


class BrandDetailSerializer(BrandSerializer):
    commitments = CommitmentSerializer(many=True, read_only=True)

    class Meta(BrandSerializer.Meta):
        fields = [*BrandSerializer.Meta.fields, "commitments"]


class TransitionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReviewSerializer(TransitionSerializer):
    decision = serializers.ChoiceField(choices=services.REVIEW_DECISIONS)


class MilestoneSerializer(serializers.ModelSerializer):
    done = serializers.BooleanField(source="is_done", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Milestone
        fields = ["id", "title", "description", "due_date", "weight", "completed_on", "done", "overdue"]
        read_only_fields = ["id", "completed_on"]
        extra_kwargs = {"weight": {"min_value": 1, "max_value": MILESTONE_WEIGHT_MAX}}


class PlanSerializer(serializers.ModelSerializer):
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = ["start_year", "end_year", "goals", "milestones"]
        extra_kwargs = {
            "start_year": {"min_value": PLAN_YEARS[0], "max_value": PLAN_YEARS[1]},
            "end_year": {"min_value": PLAN_YEARS[0], "max_value": PLAN_YEARS[1]},
        }


def _fields(serializer) -> dict:
    data = dict(serializer.validated_data)
    data.pop("logo", None)
    data.pop("cover", None)
    return data


class BrandViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Public brands for anyone, plus the caller's private ones; writes only in organizations the caller manages."""

    lookup_field = "code"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_fields = ["status", "level", "organization"]

    def get_permissions(self):
        # Reads of public brands are open to everyone; every write needs a login.
        if self.request.method in SAFE_METHODS:
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_queryset(self):
        user = self.request.user
        if self.request.method not in SAFE_METHODS:
            if self.action == "review":
                return selectors.brand_list_for(user=user, action=rules.Action.REVIEW)
            if self.action != "create":
                return selectors.brand_list_for(user=user, action=rules.Action.MANAGE)
        queryset = selectors.brand_visible_list(user=user)
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("commitments")
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return BrandDetailSerializer
        if self.action == "partial_update":
            return BrandUpdateSerializer
        return BrandSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        brand = services.brand_create(
            user=self.request.user,
            organization=data["organization"],
            data=_fields(serializer),
            logo=data.get("logo"),
            cover=data.get("cover"),
        )
        serializer.instance = self._fresh(brand)

    def perform_update(self, serializer):
        data = serializer.validated_data
        brand = services.brand_update(
            user=self.request.user,
            brand=serializer.instance,
            data=_fields(serializer),
            logo=data.get("logo"),
            cover=data.get("cover"),
        )
        serializer.instance = self._fresh(brand)

    def partial_update(self, request, *args, **kwargs):
        # PATCH only: without an `update` action the router maps no PUT on a brand, so OPTIONS and the
        # Allow header do not offer one (PUT on the viewset is the plan action's).
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        self.perform_update(serializer)
        return Response(serializer.data)

    def _fresh(self, brand: Brand) -> Brand:
        return selectors.brand_with_progress_get(pk=brand.pk)

    @extend_schema(request=TransitionSerializer, responses=BrandSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, code=None):
        """Send a draft or returned brand to the reviewers."""
        brand = self.get_object()
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        brand = services.brand_submit(user=request.user, brand=brand, comment=payload.validated_data["comment"])
        return Response(BrandSerializer(self._fresh(brand), context=self.get_serializer_context()).data)

    @extend_schema(request=ReviewSerializer, responses=BrandSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, code=None):
        """Decide on a brand: return, approve, name, demonstrate or revoke (reviewers above its organization)."""
        brand = self.get_object()
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        brand = services.brand_review(user=request.user, brand=brand, **payload.validated_data)
        return Response(BrandSerializer(self._fresh(brand), context=self.get_serializer_context()).data)

    @extend_schema(methods=["GET"], responses=CommitmentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommitmentSerializer, responses={201: CommitmentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def commitments(self, request, code=None):
        """The brand's public commitments in order; POST appends one."""
        brand = self.get_object()
        if request.method == "POST":
            payload = CommitmentSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            commitment = services.commitment_add(user=request.user, brand=brand, text=payload.validated_data["text"])
            return Response(CommitmentSerializer(commitment).data, status=status.HTTP_201_CREATED)
        return Response(
            CommitmentSerializer(selectors.commitments_visible(user=request.user, brand=brand), many=True).data
        )

    @extend_schema(methods=["GET"], responses=PlanSerializer)
    @extend_schema(methods=["PUT"], request=PlanSerializer, responses=PlanSerializer)
    @action(detail=True, methods=["get", "put"])
    def plan(self, request, code=None):
        """The long plan with its milestones; PUT writes the plan (not the milestones)."""
        brand = self.get_object()
        if request.method == "PUT":
            payload = PlanSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            services.plan_save(user=request.user, brand=brand, **payload.validated_data)
        return Response(PlanSerializer(selectors.plan_visible_get(user=request.user, brand=brand)).data)

    @extend_schema(methods=["GET"], responses=MilestoneSerializer(many=True))
    @extend_schema(methods=["POST"], request=MilestoneSerializer, responses={201: MilestoneSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def milestones(self, request, code=None):
        """The plan's milestones by due date; POST adds one (the plan must exist)."""
        brand = self.get_object()
        if request.method == "POST":
            payload = MilestoneSerializer(data=request.data)
            payload.is_valid(raise_exception=True)
            milestone = services.milestone_add(user=request.user, brand=brand, **payload.validated_data)
            return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)
        return Response(
            MilestoneSerializer(selectors.milestones_visible(user=request.user, brand=brand), many=True).data
        )

    @extend_schema(
        methods=["PATCH"],
        request=inline_serializer(
            "MilestoneUpdate",
            {
                "title": serializers.CharField(required=False),
                "description": serializers.CharField(required=False),
                "due_date": serializers.DateField(required=False),
                "weight": serializers.IntegerField(required=False, min_value=1, max_value=MILESTONE_WEIGHT_MAX),
                "done": serializers.BooleanField(required=False),
            },
        ),
        responses=MilestoneSerializer,
    )
    @extend_schema(methods=["GET"], responses=MilestoneSerializer)
    @action(detail=True, methods=["get", "patch"], url_path=r"milestones/(?P<milestone_id>\d+)")
    def milestone_detail(self, request, code=None, milestone_id=None):
        """One milestone; PATCH edits it, ``done: true/false`` completes or reopens it."""
        brand = self.get_object()
        if request.method != "PATCH":
            milestone = selectors.milestone_visible_get(user=request.user, brand=brand, pk=milestone_id)
        else:
            milestone = selectors.milestone_get_for(user=request.user, brand=brand, pk=milestone_id)
            payload = MilestoneSerializer(milestone, data=request.data, partial=True)
            payload.is_valid(raise_exception=True)
            # Checked before anything is saved: a refused request changes nothing.
            done = field_value(serializers.BooleanField(), request.data, "done") if "done" in request.data else None
            milestone = services.milestone_update(user=request.user, milestone=milestone, data=payload.validated_data)
            if done is not None:
                milestone = services.milestone_set_done(user=request.user, milestone=milestone, done=done)
        return Response(MilestoneSerializer(milestone).data)


router = SimpleRouter()
router.register("brands", BrandViewSet, basename="api-brand")

urlpatterns = [path("", include(router.urls))]
