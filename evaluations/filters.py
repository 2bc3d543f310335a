"""Filters of the rectification lists (the secretary's workspace and the reviewer's queue).

The organization filter offers only the organizations in the user's scope, and takes an organization's
whole subtree; any other value, like an unknown status, is a form error, and an invalid filter shows
no rows rather than all of them.
"""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from evaluations.models import Rectification
from organizations.models import Organization


class RectificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Rectification.Status.choices,
        empty_label=_("All statuses"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization, with those under it"),
        queryset=Organization.objects.none(),
        method="filter_organization",
        empty_label=_("All organizations"),
        widget=forms.Select(attrs={"class": "form-select"}),
        error_messages={"invalid_choice": _("Choose an organization from the list.")},
    )

    def __init__(self, data=None, queryset=None, *, organizations: QuerySet[Organization], **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.filters["organization"].queryset = organizations.order_by("path")

    def filter_organization(self, queryset: QuerySet[Rectification], name: str, value: Organization):
        return queryset.filter(organization__path__startswith=value.path)

    def filter_queryset(self, queryset: QuerySet[Rectification]) -> QuerySet[Rectification]:
        if not self.form.is_valid():
            return queryset.none()  # a filter that cannot be read must not widen the list to everything
        return super().filter_queryset(queryset)
