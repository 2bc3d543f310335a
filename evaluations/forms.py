"""Input validation for the rating form and the secretaries' and reviewers' forms."""

from django import forms
from django.utils.translation import gettext_lazy as _

from evaluations.models import BAD_GRADES, Evaluation, Grade, Rectification

OPTIONAL_GRADE_CHOICES = [("", _("Not rated"))] + list(Grade.choices)


class RateForm(forms.Form):
    """The citizen's rating. Field names match the API so both share one service call."""

    overall = forms.TypedChoiceField(
        label=_("How satisfied are you overall?"),
        choices=Grade.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how satisfied you are.")},
    )
    management = forms.TypedChoiceField(
        label=_("Management (管理)"),
        choices=OPTIONAL_GRADE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    service = forms.TypedChoiceField(
        label=_("Service (服务)"),
        choices=OPTIONAL_GRADE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    quality = forms.TypedChoiceField(
        label=_("Quality (质量)"),
        choices=OPTIONAL_GRADE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    rater_group = forms.ChoiceField(
        label=_("You are"),
        choices=Evaluation.RaterGroup.choices,
        initial=Evaluation.RaterGroup.MASSES,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 500}),
    )
    contact = forms.CharField(
        label=_("Phone or other contact for a callback (only if you are dissatisfied)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    # Hidden from people by CSS; bots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False)
    started = forms.CharField(required=False, widget=forms.HiddenInput)
    altcha = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("contact") and data.get("overall") and data["overall"] not in BAD_GRADES:
            self.add_error(
                "contact", _("A contact is asked for only with a rating of Dissatisfied or Very dissatisfied.")
            )
        return data


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Is the problem solved?"),
        choices=Rectification.Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one of the answers.")},
    )


class RespondForm(forms.Form):
    response = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000})
    )


class AppealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this review malicious?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
    )


class RulingForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("uphold", _("Uphold: exclude the rating")), ("dismiss", _("Dismiss: the rating stands"))],
        widget=forms.RadioSelect,
    )
    ruling = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class CloseForm(forms.Form):
    ruling = forms.CharField(label=_("Ruling"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class ModerationNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
