"""API: token login and the organizations the caller may see."""

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.settings import api_settings

from organizations import selectors
from organizations.models import Organization


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


class TokenLogin(ObtainAuthToken):
    """Exchange `{username, password}` for `{"token": …}`; send it as `Authorization: Token …`."""

    permission_classes = [AllowAny]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES  # DRF's view names its own, without our JSON parser


urlpatterns = [
    path("auth/token/", TokenLogin.as_view(), name="api-token"),
    path("organizations/", OrganizationList.as_view(), name="api-organization-list"),
]
