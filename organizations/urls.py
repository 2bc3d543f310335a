"""Pages of the organizations app."""

from django.urls import path

from organizations import views

urlpatterns = [
    path("workspace/audit/", views.audit_list, name="audit-list"),
]
