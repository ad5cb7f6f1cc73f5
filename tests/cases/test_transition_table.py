"""The transition table is the one declaration: every row is complete, and the page, the API and
the named wrappers all reach it. No database here, except where a test says so."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django import forms
from django.urls import reverse

from xinfang.api import schemas
from xinfang.cases import services, transitions
from xinfang.cases.forms import TEXT_MAX, UserForm
from xinfang.cases.workflow import ACTIONS, FORM_ACTIONS, Transition

ROOT = Path(__file__).resolve().parents[2] / "xinfang"

# Transitions nobody types into a form, and where they run instead.
RUN_ELSEWHERE = {
    "finalize": "the worker (services.finalize_expired)",
    "merge": "the routing app's similar-matters panel (services.case_merge)",
}


@pytest.mark.parametrize("name", list(ACTIONS))
def test_every_row_is_complete(name):
    spec = ACTIONS[name]
    assert isinstance(spec, Transition) and spec.name == name and spec.label
    assert spec.event.startswith("case.") and spec.sources
    assert callable(spec.apply) and spec.apply.__module__ == transitions.__name__
    for hook in (spec.check, spec.refusal):
        assert hook is None or hook.__module__ == transitions.__name__
    assert spec.apply.__doc__, "say in one line what the transition does"
    if name in RUN_ELSEWHERE:
        assert spec.form is None
    else:
        assert spec.form is not None and issubclass(spec.form, UserForm)


def test_each_event_kind_belongs_to_one_transition():
    kinds = [spec.event for spec in ACTIONS.values()]
    assert len(kinds) == len(set(kinds))


def test_the_actions_with_a_form_are_the_rest():
    assert set(ACTIONS) - set(FORM_ACTIONS) == set(RUN_ELSEWHERE)


@pytest.mark.parametrize("name", list(ACTIONS))
def test_each_transition_has_a_named_wrapper(name):
    """`services.case_<name>` stays greppable, and it writes through the one writer."""
    wrapper = getattr(services, f"case_{name}")  # a test's lookup, not dispatch
    source = inspect.getsource(wrapper)
    assert f'name="{name}"' in source or f'ACTIONS["{name}"]' in source


@pytest.mark.parametrize("name", list(FORM_ACTIONS))
def test_the_page_and_the_api_reach_each_form_action(name):
    assert reverse("cases:act", args=[1, name]) == f"/cases/1/act/{name}/"
    form = FORM_ACTIONS[name].form
    body = schemas.action_input(form)
    assert issubclass(body, schemas.ActionIn)
    assert set(body.model_fields) == {*form.base_fields, "expected_version"}


def test_the_api_body_derives_its_bounds_from_the_form():
    route = schemas.action_input(FORM_ACTIONS["route"].form)
    assert route.__name__ == "RouteIn"
    fields = route.model_fields
    assert fields["unit"].is_required() and not fields["note"].is_required()
    assert fields["mode"].default == schemas.RouteModeEnum.transfer
    assert fields["co_units"].default_factory is list
    days = {type(m).__name__: m for m in fields["assign_days"].metadata}
    assert days["Ge"].ge == 1 and days["Le"].le == 90
    reply = schemas.action_input(FORM_ACTIONS["reply"].form).model_fields
    assert reply["outcome"].annotation is schemas.OutcomeEnum
    text = {type(m).__name__: m for m in reply["text"].metadata}
    assert text["MinLen"].min_length == 1 and text["MaxLen"].max_length == TEXT_MAX
    assert schemas.action_input(FORM_ACTIONS["accept"].form) is schemas.ActionIn


def test_a_form_field_the_api_cannot_describe_fails_at_once():
    class OddForm(UserForm):
        when = forms.DurationField()

    with pytest.raises(TypeError, match="DurationField"):
        schemas.action_input(OddForm)


def test_no_getattr_dispatch_to_services():
    pattern = re.compile(r"getattr\(\s*\w*services\s*,")
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_table_modules_stay_short():
    for module in ("workflow", "transitions", "writer", "registration", "services"):
        lines = (ROOT / "cases" / f"{module}.py").read_text(encoding="utf-8").count("\n")
        assert lines <= 600, module


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(ACTIONS))
def test_the_page_dispatches_through_the_table(client, county, people, name):
    """Each form action reaches its form on the page (an empty post is answered in Chinese);
    the others are not page actions at all."""
    from tests.factories import bj, register

    case = register(county, people.clerk, bj(2026, 9, 1, 9))
    client.force_login(people.clerk)
    response = client.post(f"/cases/{case.pk}/act/{name}/", {})
    if name in RUN_ELSEWHERE:
        assert response.status_code == 404
        return
    assert response.status_code == 302
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown and all(re.search(r"[\u4e00-\u9fff]", m) for m in shown), shown


def test_the_how_to_names_files_that_exist():
    """docs/adding-a-transition.md is followed literally: every file it names must be there."""
    doc = (ROOT.parent / "docs" / "adding-a-transition.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:xinfang|tests)/[\w/]+\.py)", doc))
    assert named and [p for p in sorted(named) if not (ROOT.parent / p).exists()] == []
    assert "docs/adding-a-transition.md" in (ROOT.parent / "README.md").read_text(encoding="utf-8")
