from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import views
from dashboards.workspace import workspace_home

# The API first and under one prefix: its busiest endpoint (rating submission) resolves in a few steps.
api_v1 = [
    path("", include("evaluations.api")),
    path("", include("organizations.api")),
    path("", include("scores.api")),
    path("", include("brands.api")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workspace/", workspace_home, name="workspace"),
    path("", include("organizations.urls")),
    path("", include("dashboards.urls")),  # before brands: it serves /dashboard/
    path("", include("brands.urls")),
    path("", include("evaluations.urls")),
    path("rankings/", include("scores.views")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

# Uploaded media: served by the app itself (small deployments, intranets); a
# proxy may serve MEDIA_ROOT directly in front of it instead.
urlpatterns += [path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", views.media, name="media")]
