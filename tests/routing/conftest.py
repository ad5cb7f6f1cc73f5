from __future__ import annotations

import pytest

from tests.routing.helpers import trained_model
from xinfang.orgs.models import Category, DispatchRule


@pytest.fixture(scope="session")
def model_file(tmp_path_factory):
    """A model trained once on synthetic rows (three labels)."""
    return trained_model(tmp_path_factory.mktemp("routing") / "model.joblib")


@pytest.fixture
def with_model(settings, model_file):
    settings.XINFANG_ROUTING_MODEL = str(model_file)
    return model_file


@pytest.fixture
def no_model(settings, tmp_path):
    settings.XINFANG_ROUTING_MODEL = str(tmp_path / "missing.joblib")


@pytest.fixture
def building(county):
    """城乡建设 with a catalogue line to the housing bureau (住建局)."""
    top = Category.objects.create(code="CX", name="城乡建设")
    sub = Category.objects.create(code="CX01", name="物业管理", parent=top)
    DispatchRule.objects.create(category=sub, place=None, unit=county.housing)
    return sub


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The hot-issue page is cached per month and scope: start every test without it."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
