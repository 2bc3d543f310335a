"""Admin views for looking things up; status changes go through the workflow, never through the admin."""

from django.contrib import admin

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, Plan


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0


class TransitionInline(admin.TabularInline):
    model = BrandTransition
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "decision", "from_status", "to_status", "comment"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "organization", "status", "level"]
    list_filter = ["status", "level", "organization__domain"]
    search_fields = ["name", "code", "organization__name"]
    readonly_fields = ["code", "status", "logo_small", "cover_medium", "created_at", "updated_at"]
    raw_id_fields = ["organization"]
    inlines = [CommitmentInline, TransitionInline]

    def has_delete_permission(self, request, obj=None):
        return False  # codes are never reused, brands are never deleted


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["brand", "start_year", "end_year"]
    inlines = [MilestoneInline]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["title", "brand", "status", "published_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "published_by", "published_at"]
