"""Input validation for the workspace and dashboard forms (the organization and brand come from the URL)."""

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from brands import images
from brands.models import MILESTONE_WEIGHT_MAX, PLAN_YEARS, Brand, Case, Commitment, Milestone, Plan
from brands.services import (
    COMMENT_REQUIRED,
    CONFIRM_REQUIRED,
    MAX_PHOTOS,
    REVIEW_DECISIONS,
    comment_missing_message,
    decision_label,
)


class ImageUploadField(forms.FileField):
    """A file checked by content and returned as a ``NormalizedImage`` (never the raw upload)."""

    def __init__(self, *, kind: str, **kwargs):
        self.kind = kind
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", _("JPEG, PNG or WebP, at most 5 MB. Location and camera data are removed on upload.")
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png,image/webp")

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload or upload is initial:
            return None
        return images.normalize(upload, kind=self.kind)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = [f for f in (data or []) if f] if isinstance(data, list | tuple) else [data] if data else []
        if len(uploads) > MAX_PHOTOS:
            raise ValidationError(_("At most 9 photos per report; you chose %(n)d."), params={"n": len(uploads)})
        result, errors = [], []
        for upload in uploads:
            try:
                result.append(images.normalize(super().clean(upload, initial), kind="photo"))
            except ValidationError as error:
                errors.extend(f"{upload.name}: {message}" for message in error.messages)
        if errors:
            raise ValidationError(errors)
        return result


class _Form:
    """Crispy layout shared by the forms: the template writes the <form> tag."""

    def _helper(self):
        self.helper = FormHelper()
        self.helper.form_tag = False


class BrandForm(_Form, forms.ModelForm):
    organization = forms.ModelChoiceField(queryset=None, label=_("Organization"), empty_label=None)
    service_targets = forms.MultipleChoiceField(
        label=_("Service targets"),
        choices=Brand.ServiceTarget.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Who the brand serves; choose one or more."),
    )
    logo = ImageUploadField(kind="logo", label=_("Logo"))
    cover = ImageUploadField(kind="cover", label=_("Cover image"))

    class Meta:
        model = Brand
        fields = ["organization", "name", "slogan", "concept", "carrier", "positioning", "service_targets", "level"]
        widgets = {f: forms.Textarea(attrs={"rows": 3}) for f in ("concept", "carrier", "positioning")}
        help_texts = {
            "slogan": _("One short line people remember (口号)."),
            "concept": _("What the brand stands for (理念)."),
            "carrier": _("Through what activities, places or teams the brand works (载体)."),
            "positioning": _("Whom it serves and how it differs from others (定位)."),
        }

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        if organizations is None:  # editing: the organization never changes
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = organizations


class CommitmentForm(_Form, forms.ModelForm):
    class Meta:
        model = Commitment
        fields = ["text"]
        labels = {"text": _("Commitment")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class PlanForm(_Form, forms.ModelForm):
    class Meta:
        model = Plan
        fields = ["start_year", "end_year", "goals"]
        widgets = {"goals": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        for name in ("start_year", "end_year"):
            self.fields[name].validators = [MinValueValidator(PLAN_YEARS[0]), MaxValueValidator(PLAN_YEARS[1])]
            self.fields[name].widget.attrs.update(min=PLAN_YEARS[0], max=PLAN_YEARS[1])

    def clean(self):
        data = super().clean()
        start, end = data.get("start_year"), data.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("The last year cannot be before the first year."))
        return data

    def _post_clean(self):  # the brand is set by the service, not by model validation
        pass


class MilestoneForm(_Form, forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["title", "description", "due_date", "weight"]
        widgets = {
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"weight": _("How much this step counts towards the brand's overall progress.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        self.fields["weight"].validators = [MinValueValidator(1), MaxValueValidator(MILESTONE_WEIGHT_MAX)]
        self.fields["weight"].widget.attrs.update(min=1, max=MILESTONE_WEIGHT_MAX)

    def _post_clean(self):
        pass


class ProgressReportForm(_Form, forms.Form):
    text = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}))
    photos = MultipleImageField(label=_("Photos"), help_text=_("Up to 9 photos, JPEG, PNG or WebP, 5 MB each."))
    mark_done = forms.BooleanField(label=_("This milestone is now complete"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class CaseForm(_Form, forms.ModelForm):
    class Meta:
        model = Case
        fields = ["title", "summary", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()


class ReviewForm(_Form, forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Required when returning, naming, making a demonstration brand or revoking; the organization sees it."
        ),
    )
    confirm = forms.BooleanField(
        label=_("I have read the ratings and the rectification record above and confirm this decision."),
        required=False,
        help_text=_("Required to name a brand or to make it a demonstration brand."),
    )

    def __init__(self, *args, decisions=REVIEW_DECISIONS, **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        self.fields["decision"].choices = [(d, decision_label(d)) for d in decisions]
        if not set(decisions) & set(CONFIRM_REQUIRED):
            del self.fields["confirm"]

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        if decision in CONFIRM_REQUIRED and not data.get("confirm"):
            self.add_error(
                "confirm",
                _(
                    "Tick the box to confirm this decision: naming a brand or making it a demonstration brand"
                    " is shown to the public at once."
                ),
            )
        # The service refuses it too (for the API); checked here as well so every missing piece shows at once.
        if decision in COMMENT_REQUIRED and not data.get("comment", "").strip():
            self.add_error("comment", comment_missing_message(decision))
        return data


class CaseAdoptionForm(_Form, forms.Form):
    """Adopt a published case for one of the user's brands; the page offers only brands that may adopt it."""

    brand = forms.ChoiceField(label=_("For the brand"))
    note = forms.CharField(
        label=_("How you will apply it"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional; seen by your organization and the reviewers above it."),
    )

    def __init__(self, *args, brands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._helper()
        self.fields["brand"].choices = [(brand.code, brand.name) for brand in brands]
