from functools import partial

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from config import pagecache
from organizations.audit import audit_membership
from organizations.models import AuditEntry, Membership, Notice, Organization, User
from organizations.selectors import ORGANIZATION_VERSION_KEY
from organizations.services import notices_retry


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["organization"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("display_name",)}),)
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]

    def save_formset(self, request, form, formset, change):
        """Roles granted, changed or removed on the user's page each leave an audit row (the admin's own
        transaction holds them with the change)."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for removed in formset.deleted_forms:
            if removed.instance.pk:
                audit_membership(actor=request.user, membership=removed.instance, action="membership.revoke")
        changed = [f.instance.pk for f in formset.initial_forms if f.has_changed() and f not in formset.deleted_forms]
        stored = Membership.objects.select_related("user", "organization").in_bulk(changed)
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects:
            audit_membership(actor=request.user, membership=membership, action="membership.grant")
        for membership, _fields in formset.changed_objects:
            before = stored[membership.pk]
            audit_membership(actor=request.user, membership=membership, action="membership.change", before=before)


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

    def save_model(self, request, obj, form, change):
        before = Membership.objects.select_related("user", "organization").get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        action = "membership.change" if change else "membership.grant"
        audit_membership(actor=request.user, membership=obj, action=action, before=before)

    def delete_model(self, request, obj):
        audit_membership(actor=request.user, membership=obj, action="membership.revoke")
        super().delete_model(request, obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "organization"):
            audit_membership(actor=request.user, membership=membership, action="membership.revoke")
        super().delete_queryset(request, queryset)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """The outbox, read-only but for one action: a failed notice can be sent again."""

    list_display = ["created_at", "recipient", "kind", "subject", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "kind"]
    search_fields = ["recipient__username", "recipient__display_name", "subject", "key"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected failed notices again"))
    def send_again(self, request, queryset):
        count = notices_retry(notice_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(count)d notices will be sent again.") % {"count": count})
