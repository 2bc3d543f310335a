"""Admin views for looking things up; status changes go through the workflow, never through the admin."""

from django.contrib import admin

from brands.models import Brand, BrandTransition, Case, Commitment, Milestone, Plan
from config import pagecache


class OrganizationOnInlinesMixin:
    """Child rows carry their brand's organization (tenancy): the admin copies it, nobody types it.

    The owner (a brand's organization, a plan's or case's brand) is fixed once saved, so copies never go stale.
    """

    fixed_owner = "brand"

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, self.fixed_owner] if obj is not None else fields

    def save_model(self, request, obj, form, change):
        if self.fixed_owner == "brand":
            obj.organization_id = obj.brand.organization_id
        super().save_model(request, obj, form, change)
        pagecache.changed("brands")  # the public pages show what the admin edits

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        pagecache.changed("brands")

    def save_formset(self, request, form, formset, change):
        for row in formset.save(commit=False):
            row.organization_id = form.instance.organization_id
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()
        pagecache.changed("brands")


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    exclude = ["organization"]


class TransitionInline(admin.TabularInline):
    model = BrandTransition
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "actor", "decision", "from_status", "to_status", "comment"]
    exclude = ["organization"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Brand)
class BrandAdmin(OrganizationOnInlinesMixin, admin.ModelAdmin):
    fixed_owner = "organization"
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
    exclude = ["organization"]


@admin.register(Plan)
class PlanAdmin(OrganizationOnInlinesMixin, admin.ModelAdmin):
    list_display = ["brand", "start_year", "end_year"]
    exclude = ["organization"]
    inlines = [MilestoneInline]


@admin.register(Case)
class CaseAdmin(OrganizationOnInlinesMixin, admin.ModelAdmin):
    list_display = ["title", "brand", "status", "published_at"]
    exclude = ["organization"]
    list_filter = ["status"]
    readonly_fields = ["status", "published_by", "published_at"]
