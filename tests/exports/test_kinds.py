"""The export kinds are declared by their apps in settings.EXPORT_KINDS; exports reads the list."""

from __future__ import annotations

import pytest

from xinfang.exports import kinds, services
from xinfang.exports.kinds import ExportError
from xinfang.exports.models import ExportJob
from xinfang.exports.selectors import job_json
from xinfang.ledger.exporting import EXPORT_KIND
from xinfang.reports.exporting import RATE_MATTERS


def test_each_declared_kind_is_found_by_its_name():
    assert kinds.find("ledger") is EXPORT_KIND
    assert kinds.find("rate_matters") is RATE_MATTERS
    assert kinds.find("nothing") is None


def test_params_keep_only_the_kinds_own_non_empty_parameters():
    query = {"q": "欠薪", "state": "", "page": "3", "rate": "x" * 300}
    assert kinds.params_of(EXPORT_KIND, query) == {"q": "欠薪"}
    assert kinds.params_of(RATE_MATTERS, query) == {"rate": "x" * 200}


@pytest.mark.django_db
def test_a_kind_no_longer_declared_is_refused_and_its_old_jobs_keep_their_name(settings, people):
    job = ExportJob.objects.create(owner=people.clerk, kind="ledger", filters={})
    settings.EXPORT_KINDS = ["xinfang.reports.exporting.RATE_MATTERS"]
    assert kinds.find("ledger") is None
    assert job_json(job)["label"] == "ledger"
    with pytest.raises(ExportError, match="没有这种导出内容"):
        services.export_start(owner=people.clerk, kind="ledger", query={})
