"""API: token login and logout, and the organizations the caller may see."""

from django.contrib.auth import authenticate
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError, Throttled
from organizations import selectors
from organizations.authentication import api_token_issue, api_token_revoke, lockout_message
from organizations.models import ApiToken, Organization


class OrganizationSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(source="parent_id", allow_null=True, read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "short_name", "level", "domain", "region", "depth", "parent"]


class OrganizationList(generics.ListAPIView):
    """Organizations the caller may see, in tree order, with their parent's id."""

    serializer_class = OrganizationSerializer
    filterset_fields = ["domain", "level", "region"]

    def get_queryset(self):
        return selectors.organization_list(user=self.request.user)


class TokenLoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class TokenLogin(APIView):
    """`POST {username, password}` gives `{"token", "expiry"}`: send it as `Authorization: Token …` until
    `expiry`; `DELETE` with it logs out (the token stops working). A new password ends every token.

    Ten failed logins for one username from one address lock that pair out for 15 minutes (429).
    """

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def perform_authentication(self, request):
        if request.method != "POST":  # logging in again with an expired token in the header is fine
            super().perform_authentication(request)

    @extend_schema(
        request=TokenLoginSerializer,
        responses=inline_serializer(
            "TokenLoginResponse", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
        ),
    )
    def post(self, request):
        serializer = TokenLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: django-axes marks a lockout on it for its middleware.
        django_request = request._request
        user = authenticate(django_request, **serializer.validated_data)
        if getattr(django_request, "axes_locked_out", False):
            raise Throttled(lockout_message(), code="locked_out")
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]}, code="authorization"
            )
        token, key = api_token_issue(user=user)
        return Response({"token": key, "expiry": token.expires_at})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError(_("Send the token to revoke in the Authorization header."))
        api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("auth/token/", TokenLogin.as_view(), name="api-token"),
    path("organizations/", OrganizationList.as_view(), name="api-organization-list"),
]
