"""Import = registration: a matter registered through the ledger import leaves exactly what the
same matter registered by a clerk leaves (导入即登记).

Every channel and kind, a 集体访 of 20, reports with their accused units or pending, a 12345
hotline matter, anonymous and unreachable petitioners: each is registered once with
`case_register` and once in an .xlsx through `import_ledger`, and everything observable is
compared: the matter's fields, its timeline, the outbox, the reception clock, every other row
that points at the matter (backlog, routing, …) and its search index entry.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from openpyxl import Workbook

from tests.factories import VALID_ID, VALID_PHONE, bj, petitioner, register
from xinfang.cases import search
from xinfang.cases.models import Case, CaseEvent, Channel, Kind
from xinfang.ledger.columns import COLUMNS
from xinfang.ledger.importing import import_ledger
from xinfang.notify.models import Outbox
from xinfang.reception.models import GroupVisitReception

NOW = bj(2026, 3, 20, 12)
# What may differ between the two roads: the row's identity, and the number that names it.
NOT_COMPARED = {"id", "seq", "number"}
CONTENT = "本人在某建筑公司务工，公司拖欠工资三个月未发，欠薪共计两万元，请求帮助追讨。"


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class Matter:
    """One matter as both roads take it: `case_register`'s values and the ledger's cells."""

    channel: str
    kind: str
    at: dt.datetime
    title: str = "某公司拖欠工资三个月"
    content: str = CONTENT
    town: bool = False  # 问题属地: the street (东湖街道) instead of the county
    category: bool = True
    name: str = "张三"
    id_number: str = VALID_ID
    phone: str = VALID_PHONE
    address: str = "A1区东湖街道1号"
    anonymous: bool = False
    group_size: int = 1
    accused: bool = False  # 被反映单位: A1区住房和城乡建设局
    accused_person: str = ""
    extra: dict = field(default_factory=dict)

    def register(self, county, by) -> Case:
        return register(
            county,
            by,
            self.at,
            channel=self.channel,
            kind=self.kind,
            title=self.title,
            content=self.content,
            place=county.town_place if self.town else county.place,
            category=county.wages if self.category else None,
            petitioner=petitioner(
                name=self.name,
                id_number=self.id_number,
                phone=self.phone,
                address=self.address,
                anonymous=self.anonymous,
            ),
            group_size=self.group_size,
            accused_unit=county.housing if self.accused else None,
            accused_person=self.accused_person,
            no_accused_unit=False,  # as an imported report without its unit: pending
        )

    def cells(self) -> dict:
        return {
            "登记时间": self.at.replace(tzinfo=None),
            "来源渠道": Channel(self.channel).label,
            "事项类型": Kind(self.kind).label,
            "标题": self.title,
            "诉求内容": self.content,
            "问题属地": "东湖街道" if self.town else "430102",
            "事项分类": "劳动和社会保障/拖欠工资" if self.category else None,
            "信访人姓名": self.name,
            "身份证号": self.id_number,
            "联系电话": self.phone,
            "住址": self.address,
            "是否匿名": "是" if self.anonymous else "否",
            "来访人数": self.group_size,
            "被反映单位": "A1区住房和城乡建设局" if self.accused else None,
            "被反映人": self.accused_person,
        }


def matters() -> list[Matter]:
    """Every channel with every kind, then the matters that take a road of their own."""
    plain = [
        Matter(channel, kind, bj(2026, 3, 2 + i % 14, 8 + i % 10, 7 * i % 60), town=i % 2 == 1)
        for i, (channel, kind) in enumerate(
            (channel, kind) for channel in Channel.values for kind in Kind.values
        )
    ]
    return [
        *plain,
        # 集体访 of 20 people: the 2-hour leader-reception clock starts
        Matter(Channel.VISIT, Kind.APPEAL, bj(2026, 3, 19, 15, 40), group_size=20),
        # 集体访 by letter: a group, but no reception clock (only channel 来访 starts one)
        Matter(Channel.LETTER, Kind.APPEAL, bj(2026, 3, 19, 9), group_size=8),
        # 检举控告, anonymous, naming the accused unit and person: confidential, no message
        Matter(
            Channel.LETTER,
            Kind.ACCUSATION,
            bj(2026, 3, 9, 10),
            title="举报违建",
            content="住建局某干部违规审批违建。",
            name="",
            id_number="",
            phone="",
            address="",
            anonymous=True,
            accused=True,
            accused_person="李某",
        ),
        # 检举控告 by a named petitioner with its accused unit
        Matter(Channel.VISIT, Kind.ACCUSATION, bj(2026, 3, 10, 11), accused=True),
        # 12345 hotline requests: help, and a report with its accused unit
        Matter(Channel.PHONE, Kind.HOTLINE_HELP, bj(2026, 3, 14, 22, 30), town=True),
        Matter(
            Channel.PHONE,
            Kind.HOTLINE_REPORT,
            bj(2026, 3, 15, 6),
            accused=True,
            accused_person="王某",
        ),
        # an anonymous suggestion; a petitioner with a landline only; one with an address only
        Matter(
            Channel.ONLINE, Kind.SUGGESTION, bj(2026, 3, 7, 9), name="", phone="", anonymous=True
        ),
        Matter(Channel.LETTER, Kind.APPEAL, bj(2026, 3, 8, 9), phone="0731-84123456"),
        Matter(Channel.LETTER, Kind.APPEAL, bj(2026, 3, 1, 23, 59), phone="", category=False),
        # registered on the eve of a public holiday's weekend, and before a spring holiday
        Matter(Channel.VISIT, Kind.APPEAL, bj(2026, 2, 13, 17, 30)),
        Matter(Channel.VISIT, Kind.APPEAL, bj(2026, 1, 1, 0, 0)),
    ]


def ledger(rows: list[Matter]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for row in rows:
        cells = row.cells()
        ws.append([cells.get(c) for c in COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _plain(value, case: Case):
    """A value as compared: the matter's own number stands as {number}."""
    if isinstance(value, str):
        return value.replace(case.number, "{number}")
    if isinstance(value, dict):
        return {k: _plain(v, case) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, case) for v in value]
    return value


def case_fields(case: Case) -> dict:
    return {
        f.attname: _plain(getattr(case, f.attname), case)
        for f in Case._meta.concrete_fields
        if f.attname not in NOT_COMPARED
    }


def side_rows(case: Case) -> dict[str, list[dict]]:
    """Every row of every table that points at the matter (events, outbox, reception clock,
    backlog, routing, the many-to-many links…), without its own id, in a stable order."""
    out = {}
    for model in apps.get_models(include_auto_created=True):
        for fk in model._meta.concrete_fields:
            if not (fk.is_relation and fk.related_model is Case) or model is Case:
                continue
            rows = [
                {k: _plain(v, case) for k, v in row.items() if k not in {"id", fk.attname}}
                for row in model.objects.filter(**{fk.attname: case.pk}).values()
            ]
            out[f"{model._meta.label}.{fk.attname}"] = sorted(rows, key=repr)
    return out


def indexed_tokens(case: Case) -> list[str]:
    """The matter's search index entry as stored, token by token."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT word, pos FROM cases_search, unnest(doc) AS t(word, pos, w)"
                " WHERE case_id = %s",
                [case.pk],
            )
            positions = [(p, w) for w, ps in cursor.fetchall() for p in ps]
        else:
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.parity_vocab"
                " USING fts5vocab(main, cases_fts, instance)"
            )
            cursor.execute("SELECT offset, term FROM temp.parity_vocab WHERE doc = %s", [case.pk])
            positions = list(cursor.fetchall())
    return [word for _pos, word in sorted(positions)]


def expected_tokens(case: Case) -> list[str]:
    """What registration indexes for a matter (a contentless SQLite index lower-cases)."""
    return [w.lower() for w in search.document_tokens(case, co_units=())]


@pytest.fixture(autouse=True)
def _sms_budget_out_of_the_way(settings):
    """Every matter here has the same phone: past the daily SMS budget the later messages
    would be skipped (tests/test_portal_abuse.py), which is not what these tests compare."""
    settings.XINFANG_SMS_DAILY_LIMIT = 10_000


@pytest.fixture
def both(county, people):
    return _both(county, people)


def _both(county, people) -> list[tuple[Case, Case]]:
    """(registered, imported) pairs of the same matters, in `matters()` order."""
    rows = matters()
    registered = [m.register(county, people.clerk) for m in rows]
    result = import_ledger(io.BytesIO(ledger(rows)), office=county.office, by=people.clerk)
    assert result.ok, result.messages
    imported = list(Case.objects.exclude(pk__in=[c.pk for c in registered]).order_by("seq"))
    assert len(imported) == len(registered) == len(rows)
    return list(zip(registered, imported, strict=True))


def test_an_imported_matter_has_the_fields_of_a_registered_one(both):
    for registered, imported in both:
        assert case_fields(imported) == case_fields(registered), registered.title


def _declared_differences(mine: dict, theirs: dict) -> None:
    """The two intended differences, checked and taken out: the timeline says the entry came
    from a ledger, and an import's messages queue behind fresh ones (bulk priority)."""
    [event] = mine["cases.CaseEvent.case_id"]
    assert event["details"].pop("via") == "import"
    for row in mine.get("notify.Outbox.case_id", []):
        assert row.pop("priority") == Outbox.Priority.BULK
    for row in theirs.get("notify.Outbox.case_id", []):
        assert row.pop("priority") == Outbox.Priority.CITIZEN


def test_an_imported_matter_leaves_the_same_rows_events_and_messages(both):
    for registered, imported in both:
        mine, theirs = side_rows(imported), side_rows(registered)
        _declared_differences(mine, theirs)
        assert mine == theirs, (registered.channel, registered.kind, registered.title)


def test_the_search_index_holds_the_same_entry(both):
    for registered, imported in both:
        assert indexed_tokens(registered) == expected_tokens(registered)
        assert indexed_tokens(imported) == expected_tokens(imported)


def test_the_observable_effects_are_there_not_only_equal(both, county):
    """Parity with nothing would pass too: the reactions must really have run for imports."""
    imported = [i for _r, i in both]
    group = next(c for c in imported if c.group_size == 20)
    visit = GroupVisitReception.objects.get(case=group)
    assert visit.due_at == bj(2026, 3, 19, 17, 40) and visit.office_id == county.office.pk
    assert GroupVisitReception.objects.filter(case__in=imported).count() == 1
    told = Outbox.objects.filter(case__in=imported, kind="case.registered")
    reachable = [c for c in imported if c.petitioner_phone.startswith("1")]
    assert sorted(told.values_list("case_id", flat=True)) == sorted(c.pk for c in reachable)
    sample = told.get(case=reachable[0])
    assert sample.recipient == VALID_PHONE and reachable[0].number in sample.body
    assert "已登记" in sample.body
    assert CaseEvent.objects.filter(case__in=imported, kind="case.registered").count() == len(
        imported
    )


def test_history_is_history_on_both_roads(county, people, settings):
    """With the office's 30 days, the matters of January and February are history on both
    roads: the same rows again, and no message or reception clock for them."""
    settings.XINFANG_HISTORY_DAYS = 30
    pairs = _both(county, people)
    for registered, imported in pairs:
        mine, theirs = side_rows(imported), side_rows(registered)
        _declared_differences(mine, theirs)
        assert mine == theirs, (registered.channel, registered.kind, registered.title)
    old = [i for r, i in pairs if r.registered_at < NOW - dt.timedelta(days=30)]
    news = [i for r, i in pairs if r.registered_at >= NOW - dt.timedelta(days=30)]
    assert len(old) == 2 and news
    assert not Outbox.objects.filter(case__in=old).exists()
    reachable = [c for c in news if c.petitioner_phone.startswith("1")]
    told = Outbox.objects.filter(case__in=news, kind="case.registered")
    assert sorted(told.values_list("case_id", flat=True)) == sorted(c.pk for c in reachable)
    assert GroupVisitReception.objects.filter(case__in=news).count() == 1
