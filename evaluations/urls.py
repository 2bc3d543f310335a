"""Page URLs of the rating loop (the public contract keeps /b/<code>/rate/, qr.png and /track/<receipt>/)."""

from django.urls import path

from evaluations import views

app_name = "evaluations"

urlpatterns = [
    path("b/<str:code>/rate/", views.rate, name="rate"),
    path("b/<str:code>/rate/thanks/<str:receipt>/", views.thanks, name="thanks"),
    path("b/<str:code>/qr.png", views.qr_png, name="qr-png"),
    path("b/<str:code>/qr.svg", views.qr_svg, name="qr-svg"),
    path("b/<str:code>/poster/", views.poster, name="poster"),
    path("track/", views.track_lookup, name="track-lookup"),
    path("track/<str:receipt>/", views.track, name="track"),
    path("workspace/rectifications/", views.workspace_rectifications, name="workspace-rectifications"),
    path("workspace/rectifications/<int:pk>/", views.workspace_rectification, name="workspace-rectification"),
    path("workspace/rectifications/<int:pk>/respond/", views.workspace_respond, name="workspace-respond"),
    path("workspace/rectifications/<int:pk>/appeal/", views.workspace_appeal, name="workspace-appeal"),
    path("dashboard/rectifications/", views.dashboard_rectifications, name="dashboard-rectifications"),
    path("dashboard/rectifications/<int:pk>/", views.dashboard_rectification, name="dashboard-rectification"),
    path("dashboard/rectifications/<int:pk>/rule/", views.dashboard_rule, name="dashboard-rule"),
    path("dashboard/rectifications/<int:pk>/close/", views.dashboard_close, name="dashboard-close"),
    path("workspace/brands/<str:code>/rating-codes/", views.workspace_rating_codes, name="workspace-rating-codes"),
    path("dashboard/surges/", views.dashboard_surges, name="dashboard-surges"),
    path("dashboard/surges/<int:pk>/", views.dashboard_surge, name="dashboard-surge"),
    path("dashboard/surges/<int:pk>/decide/", views.dashboard_surge_decide, name="dashboard-surge-decide"),
    path("dashboard/moderation/", views.moderation_comments, name="moderation-comments"),
    path("dashboard/moderation/<int:pk>/comment/", views.moderation_comment, name="moderation-comment"),
    path("dashboard/moderation/flagged/", views.moderation_flagged, name="moderation-flagged"),
    path("dashboard/moderation/flagged/<int:pk>/restore/", views.moderation_restore, name="moderation-restore"),
]
