from functools import partial

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.cache import cache
from django.db import transaction
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from config import pagecache
from organizations.models import AuditEntry, Membership, Organization, User
from organizations.selectors import ORGANIZATION_VERSION_KEY


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("display_name",)}),)
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail, read-only: rows are written by the services, never by hand."""

    list_display = ["created_at", "actor", "organization", "action", "target_label", "before", "after"]
    list_filter = ["action"]
    search_fields = ["action", "target_label", "target_id", "actor__username", "organization__name"]
    list_select_related = ["actor", "organization"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(TreeAdmin):
    form = movenodeform_factory(Organization)
    list_display = ["name", "short_name", "level", "domain", "region"]
    list_filter = ["level", "domain", "region"]
    search_fields = ["name", "short_name"]

    # Reads that show organizations (rankings: names, domains, parents) are cached on their version.
    def _changed(self) -> None:
        transaction.on_commit(partial(cache.delete, ORGANIZATION_VERSION_KEY))
        pagecache.changed("organizations")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._changed()

    def move_node(self, request):
        response = super().move_node(request)
        self._changed()
        return response


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__name"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]
