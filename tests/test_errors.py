"""One mapping from a refusal's kind to its HTTP status serves the API and the pages."""

import pytest
from django import forms
from django.http import Http404
from django.test import override_settings
from django.urls import include, path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from config.errors import (
    ApplicationError,
    Conflict,
    NotAllowed,
    NotFound,
    Throttled,
    error_body,
    form_refusal,
    http_status,
)

KINDS = [(ApplicationError, 400), (NotAllowed, 403), (NotFound, 404), (Conflict, 409), (Throttled, 429)]


class Subclass(Conflict):
    """A kind of a kind answers as its parent."""


@pytest.mark.parametrize(("kind", "status"), [*KINDS, (Subclass, 409)])
def test_each_kind_has_one_status(kind, status):
    assert http_status(kind("message")) == status


def test_the_error_carries_no_status_only_a_kind_and_a_code():
    error = Conflict("already", field="brand", code="already_adopted")
    assert not hasattr(error, "status")
    assert (error.message, error.field, error.code) == ("already", "brand", "already_adopted")
    codes = (ApplicationError("x").code, NotFound("x").code, Throttled("x").code)
    assert codes == ("invalid", "not_found", "throttled")
    assert error_body(error) == {"brand": ["already"]}
    assert error_body(NotAllowed("no")) == {"detail": "no"}


# Views that raise each kind without catching it: one API view, one page.
RAISED = {kind.__name__: kind for kind, _status in KINDS}


@api_view(["GET"])
@permission_classes([AllowAny])
def api_raises(request, kind):
    raise RAISED[kind]("refused", field="note" if request.GET.get("field") else None)


def page_raises(request, kind):
    raise RAISED[kind]("页面拒绝")


urlpatterns = [
    path("api/raise/<str:kind>/", api_raises),
    path("page/raise/<str:kind>/", page_raises),
    path("", include("config.urls")),  # the pages' layout links to the site's own routes
]


@pytest.mark.urls("tests.test_errors")
@pytest.mark.parametrize(("kind", "status"), KINDS)
def test_the_api_answers_each_kind_with_its_status_and_body(kind, status):
    client = APIClient()
    response = client.get(f"/api/raise/{kind.__name__}/")
    assert (response.status_code, response.json()) == (status, {"detail": "refused"})
    response = client.get(f"/api/raise/{kind.__name__}/", {"field": "1"})
    assert (response.status_code, response.json()) == (status, {"note": ["refused"]})


@pytest.mark.urls("tests.test_errors")
@pytest.mark.parametrize(("kind", "status"), KINDS)
@override_settings(DEBUG=False)
def test_a_page_answers_an_uncaught_refusal_with_the_same_status(client, db, kind, status):
    response = client.get(f"/page/raise/{kind.__name__}/")
    assert response.status_code == status
    if kind is NotFound:  # the site's 404 page, as for anything out of reach
        assert "页面拒绝" not in response.content.decode()
    else:
        assert '<p class="alert alert-warning" id="refusal">页面拒绝</p>' in response.content.decode()


class NoteForm(forms.Form):
    note = forms.CharField(required=False)


@pytest.mark.parametrize(("kind", "status"), [k for k in KINDS if k[0] is not NotFound])
def test_a_form_shows_the_refusal_on_its_field_and_the_page_takes_its_status(kind, status):
    form = NoteForm({"note": "x"})
    assert form.is_valid()
    assert form_refusal(form, kind("写得不对", field="note")) == status
    assert form.errors == {"note": ["写得不对"]}
    other = NoteForm({"note": "x"})
    other.is_valid()
    assert form_refusal(other, kind("整体不行", field="elsewhere")) == status
    assert other.non_field_errors() == ["整体不行"]


def test_a_not_found_on_a_form_is_the_404_page():
    form = NoteForm({"note": "x"})
    form.is_valid()
    with pytest.raises(Http404):
        form_refusal(form, NotFound("没有"))
