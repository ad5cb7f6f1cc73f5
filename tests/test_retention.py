"""保存期限与匿名化: closed matters past XINFANG_RETENTION_YEARS lose the petitioner's personal
data everywhere (the matter, representatives, timeline, messages, search index) while every
statistic (rates, dashboard panels) counts exactly as before."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from tests.factories import VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import search, services
from xinfang.cases.models import Case, CaseEvent, Outcome, Rating, State
from xinfang.notify.models import Outbox
from xinfang.ops.models import Anonymisation
from xinfang.ops.retention import ANONYMOUS, anonymise_expired, due_for_anonymisation
from xinfang.reports import dashboard, panels
from xinfang.reports.selectors import Period, rates_table

NOW = bj(2026, 12, 1, 9)
REP_PHONE, REP_NAME = "13900001111", "李代表"
ADDRESS = "A1区东湖街道建设路18号"
CONTENT = f"本人张三，联系电话{VALID_PHONE}，住{ADDRESS}，身份证 {VALID_ID}，公司拖欠工资三个月。"
PERSONAL = ("张三", VALID_PHONE, VALID_ID, ADDRESS, REP_PHONE, REP_NAME)
EVERYTHING = Period(dt.date(2018, 1, 1), dt.date(2026, 12, 31))


def _matter(county, at, **kw):
    return register(
        county,
        None,
        at,
        title="张三反映公司拖欠工资",
        content=CONTENT,
        petitioner=petitioner(address=ADDRESS),
        representatives=[{"name": REP_NAME, "phone": REP_PHONE}],
        **kw,
    )


def _replied_rated_final(county, at):
    case = _matter(county, at)
    case = services.case_route(case=case, by=None, unit=county.hr, at=at + dt.timedelta(days=2))
    case = services.case_accept(case=case, by=None, at=at + dt.timedelta(days=5))
    text = f"经核实已督促发放。联系张三 {VALID_PHONE}。"
    case = services.case_reply(
        case=case, by=None, outcome=Outcome.SUPPORTED, text=text, at=at + dt.timedelta(days=30)
    )
    case = services.case_rate(
        case=case, by=None, rating=Rating.SATISFIED, at=at + dt.timedelta(days=35)
    )
    return services.case_finalize(case=case, at=at + dt.timedelta(days=70))


@pytest.fixture
def world(county, people, settings):
    settings.XINFANG_RETENTION_YEARS = 5
    old_final = _replied_rated_final(county, bj(2019, 3, 4, 9))
    old_declined = services.case_decline(
        case=services.case_route(
            case=_matter(county, bj(2019, 6, 3, 9)), by=None, unit=county.hr, at=bj(2019, 6, 4, 9)
        ),
        by=None,
        reason="属于劳动仲裁受理范围",
        proper_channel="向劳动人事争议仲裁委员会申请仲裁",
        at=bj(2019, 6, 10, 9),
    )
    recent = _replied_rated_final(county, bj(2026, 3, 2, 9))
    old_open = services.case_accept(
        case=services.case_route(
            case=_matter(county, bj(2019, 9, 2, 9)), by=None, unit=county.hr, at=bj(2019, 9, 3, 9)
        ),
        by=None,
        at=bj(2019, 9, 4, 9),
    )
    assert old_final.state == State.FINAL and old_declined.state == State.DECLINED
    return {"old": [old_final, old_declined], "kept": [recent, old_open]}


def _statistics(user) -> dict:
    table = rates_table(user, EVERYTHING, "unit")
    filters = dashboard.Filters(EVERYTHING)
    return {
        "rates": (table.rows, table.total),
        **{
            name: panels.panel(user, name, filters, fresh=True).rows
            for name in ("trend", "channel", "category", "place", "rates")
        },
    }


def _texts(case: Case) -> str:
    """Every text stored about a matter."""
    case.refresh_from_db()
    parts = [
        case.title,
        case.content,
        case.petitioner_name,
        case.petitioner_id_number,
        case.petitioner_phone,
        case.petitioner_address,
        *(f"{r.name} {r.id_number} {r.phone}" for r in case.representatives.all()),
        *(str(e.details) for e in CaseEvent.objects.filter(case=case)),
        *(f"{m.recipient} {m.subject} {m.body}" for m in Outbox.objects.filter(case=case)),
    ]
    return "\n".join(parts)


def test_closed_matters_past_the_period_lose_personal_data_and_statistics_stay(world, people):
    old, kept = world["old"], world["kept"]
    assert all(p in _texts(old[0]) for p in PERSONAL)  # the replied text names the petitioner
    before = _statistics(people.supervisor)
    assert set(search.filter_cases(Case.objects.all(), "张三")) == set(old + kept)
    assert set(due_for_anonymisation(NOW)) == set(old)

    assert anonymise_expired(NOW) == 2

    for case in old:
        text = _texts(case)
        assert not [p for p in PERSONAL if p in text], text
        assert case.petitioner_name == ANONYMOUS and case.title == "[已隐去]反映公司拖欠工资"
        assert "拖欠工资三个月" in case.content  # the matter itself is still told
    for case in kept:
        assert all(p in _texts(case) for p in ("张三", VALID_PHONE, ADDRESS))
    # the search index forgot them: no hit by name or phone, still found by their subject
    assert set(search.filter_cases(Case.objects.all(), "张三")) == set(kept)
    assert set(search.filter_cases(Case.objects.all(), VALID_PHONE)) == set(kept)
    assert set(old) <= set(search.filter_cases(Case.objects.all(), "拖欠工资"))
    assert _statistics(people.supervisor) == before
    assert Anonymisation.objects.count() == 2
    assert anonymise_expired(NOW) == 0  # once


def test_off_by_default(world, settings):
    settings.XINFANG_RETENTION_YEARS = 0
    assert anonymise_expired(NOW) == 0
    assert all("张三" in _texts(c) for c in world["old"])


def test_the_command_reports_how_many(world, capsys):
    call_command("anonymise")
    assert "已匿名化 2 件" in capsys.readouterr().out
