"""Input validation for the rating form and the secretaries' and reviewers' forms."""

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from evaluations import policy
from evaluations.models import Evaluation, Grade, Rectification

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
    code = forms.CharField(
        label=_("Rating code from the service point (optional)"),
        help_text=_("With a code, your rating counts at once."),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    # Hidden from people by CSS; bots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False)
    started = forms.CharField(required=False, widget=forms.HiddenInput)
    altcha = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        problem = policy.contact_problem(overall=data.get("overall"), contact=data.get("contact", ""))
        if problem:
            self.add_error("contact", problem)
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


class RatingCodeIssueForm(forms.Form):
    """How many one-time rating codes to issue, and for how long they stay valid."""

    count = forms.IntegerField(label=_("Number of codes"), min_value=1, initial=1)
    valid_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count"].max_value = settings.RATING_CODE_BATCH_MAX
        self.fields["count"].validators.append(MaxValueValidator(settings.RATING_CODE_BATCH_MAX))
        self.fields["count"].widget.attrs["max"] = settings.RATING_CODE_BATCH_MAX
        self.fields["valid_days"].initial = settings.RATING_CODE_VALID_DAYS
        self.fields["valid_days"].validators.append(MaxValueValidator(settings.RATING_CODE_MAX_DAYS))
        self.fields["valid_days"].widget.attrs["max"] = settings.RATING_CODE_MAX_DAYS


class SurgeDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("release", _("Release: a real event; the held ratings count")),
            ("reject", _("Reject: not genuine; the held ratings are excluded")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose release or reject.")},
    )
    note = forms.CharField(label=_("Note (optional)"), max_length=200, required=False)
