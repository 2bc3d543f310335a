"""Input of the dashboard's warning and 帮扶 case pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboards import selectors
from organizations import rules


class CaseOpenForm(forms.Form):
    """Open a 帮扶 case from a warning: a mentor organization (suggestions first) and the goal."""

    mentor = forms.ModelChoiceField(label=_("Mentor organization"), queryset=None, empty_label=None)
    goal = forms.CharField(
        label=_("What should the case achieve?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, user, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = selectors.mentor_suggestions(brand=brand)
        queryset = rules.organizations_for(user, rules.Action.REVIEW).exclude(pk=brand.organization_id)
        self.fields["mentor"].queryset = queryset.order_by("path")
        suggested = [organization for organization, _row in self.suggestions]
        if suggested:
            self.fields["mentor"].initial = suggested[0].pk


class ActionForm(forms.Form):
    text = forms.CharField(label=_("Action"), max_length=300)
    owner = forms.CharField(label=_("Owner"), max_length=100)
    due_on = forms.DateField(label=_("Due on"), widget=forms.DateInput(attrs={"type": "date"}))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Follow-up note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class CaseCloseForm(forms.Form):
    review = forms.CharField(
        label=_("Closing review: what changed?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
