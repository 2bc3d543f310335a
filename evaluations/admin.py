"""Read-mostly admin for ratings and rectifications: states change only through the services."""

from django.contrib import admin

from evaluations.models import Evaluation, EvaluationStateChange, Rectification, RectificationEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["receipt", "brand", "overall", "state", "comment_status", "rated_on"]
    list_filter = ["state", "comment_status", "channel", "overall"]
    search_fields = ["receipt", "brand__name", "brand__code"]
    list_select_related = ["brand"]


@admin.register(EvaluationStateChange)
class EvaluationStateChangeAdmin(ReadOnlyAdmin):
    list_display = ["evaluation", "from_state", "to_state", "reason", "actor", "created_at"]
    list_select_related = ["evaluation__brand", "actor"]


@admin.register(Rectification)
class RectificationAdmin(ReadOnlyAdmin):
    list_display = ["brand", "organization", "status", "due_on", "is_overdue"]
    list_filter = ["status", "is_overdue"]
    list_select_related = ["brand", "organization"]


@admin.register(RectificationEvent)
class RectificationEventAdmin(ReadOnlyAdmin):
    list_display = ["rectification", "action", "from_status", "to_status", "actor", "created_at"]
    list_select_related = ["rectification__brand", "actor"]
