"""The ranking filters (period, domain, parent, subtree, rater group), validated once for page, CSV and API."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config.errors import ApplicationError
from evaluations.models import Evaluation
from organizations.models import Organization
from scores.periods import period_kind


class RankingFilterForm(forms.Form):
    period = forms.CharField(label=_("Period"), required=False)
    domain = forms.ChoiceField(
        label=_("Domain"), required=False, choices=[("", _("All domains"))] + Organization.Domain.choices
    )
    # Ids are 64-bit: a longer number is a field error here, not an overflow in the query.
    parent = forms.IntegerField(label=_("Parent organization"), required=False, min_value=1, max_value=2**63 - 1)
    # Every brand in an organization's subtree (the dashboard's scope), rather than its children's.
    subtree = forms.IntegerField(label=_("Within organization"), required=False, min_value=1, max_value=2**63 - 1)
    group = forms.ChoiceField(
        label=_("Rater group"), required=False, choices=[("", _("All raters"))] + Evaluation.RaterGroup.choices
    )

    def clean_period(self) -> str:
        period = self.cleaned_data["period"] or "all"
        try:
            period_kind(period)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        return period

    def filters(self) -> dict:
        """Keyword arguments for `selectors.ranking` (call after is_valid())."""
        data = self.cleaned_data
        return {
            "period": data["period"],
            "domain": data["domain"],
            "parent": data["parent"],
            "rater_group": data["group"],
            "subtree": data["subtree"],
        }


class SeriesFilterForm(forms.Form):
    group = forms.ChoiceField(
        label=_("Rater group"), required=False, choices=[("", _("All raters"))] + Evaluation.RaterGroup.choices
    )
