"""Pages of the organization department's dashboard (/dashboard/) and of 帮扶 cases (/support/)."""

from django.urls import path

from dashboards import views

urlpatterns = [
    path("dashboard/", views.dashboard_home, name="dashboard"),
    path("dashboard/export.xlsx", views.dashboard_excel, name="dashboard-excel"),
    path("dashboard/export/<str:sheet>.csv", views.dashboard_csv, name="dashboard-csv"),
    path("dashboard/warnings/<int:pk>/", views.warning_detail, name="dashboard-warning"),
    path("dashboard/warnings/<int:pk>/acknowledge/", views.warning_acknowledge, name="dashboard-warning-acknowledge"),
    path("dashboard/warnings/<int:pk>/case/", views.case_open, name="dashboard-case-open"),
    path("support/<int:pk>/", views.case_detail, name="support-case"),
    path("support/<int:pk>/actions/", views.case_action_add, name="support-case-action"),
    path("support/<int:pk>/actions/<int:action_pk>/done/", views.case_action_done, name="support-case-action-done"),
    path("support/<int:pk>/notes/", views.case_note_add, name="support-case-note"),
    path("support/<int:pk>/close/", views.case_close, name="support-case-close"),
]
