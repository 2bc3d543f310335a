from django.urls import path

from brands import views

urlpatterns = [
    path("brands/", views.brand_directory, name="brand-directory"),
    path("b/<str:code>/", views.brand_detail, name="brand-detail"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/adopt/", views.case_adopt, name="case-adopt"),
    path("workspace/brands/new/", views.brand_create, name="workspace-brand-create"),
    path("workspace/brands/<str:code>/", views.workspace_brand, name="workspace-brand"),
    path("workspace/brands/<str:code>/edit/", views.brand_edit, name="workspace-brand-edit"),
    path("workspace/brands/<str:code>/submit/", views.brand_submit, name="workspace-brand-submit"),
    path("workspace/brands/<str:code>/commitments/", views.commitment_add, name="workspace-commitment-add"),
    path("workspace/brands/<str:code>/commitments/<int:pk>/", views.commitment_edit, name="workspace-commitment-edit"),
    path("workspace/brands/<str:code>/plan/", views.plan_edit, name="workspace-plan"),
    path("workspace/brands/<str:code>/milestones/new/", views.milestone_edit, name="workspace-milestone-add"),
    path("workspace/brands/<str:code>/milestones/<int:pk>/", views.milestone_edit, name="workspace-milestone-edit"),
    path(
        "workspace/brands/<str:code>/milestones/<int:pk>/done/", views.milestone_done, name="workspace-milestone-done"
    ),
    path("workspace/brands/<str:code>/milestones/<int:pk>/report/", views.report_add, name="workspace-report-add"),
    path("workspace/brands/<str:code>/cases/new/", views.case_edit, name="workspace-case-add"),
    path("workspace/brands/<str:code>/cases/<int:pk>/", views.case_edit, name="workspace-case-edit"),
    path("dashboard/brands/<str:code>/", views.dashboard_brand, name="dashboard-brand"),
    path("dashboard/cases/<int:pk>/publish/", views.dashboard_case_publish, name="dashboard-case-publish"),
]
