"""Issue 9, "what it must show": logged in as each user of an accused unit (every unit below it
too, every role), a crawl that follows every link and downloads every document finds the
complainant's name, phone and ID number nowhere.

The world: the demo generator's matters (its 检举控告 name accused units) at a fixed moment, and
on top of them reports with complainants whose name, phone and ID number are used on reports
only, in many states and places:

- R_zj: 检举控告 against 住建局, handled by 人社局 (accepted, replied: notices), with an attachment,
  a backlog case with a hearing that names the complainant, a reception record with an
  instruction, and a booking of a reception slot whose duty leader is 住建局's head.
- R_cg: 12345 举报 against 城管局, handled by 市场监管局, accepted.
- R_donghu: 12345 投诉 against 东湖街道 and 城管局, handled by 住建局, replied.
- R_jy: 检举控告 against 教育局 (its schools below it), handled by 纪委监委: extended, replied,
  under review by the county government; a backlog case.
- R_office: 检举控告 against the petition office itself, handled by 纪委监委; a duplicate by the
  same complainant merged into it. Its clerk and head open the matter, never the complainant.
- R_county: 检举控告 against the county government, handled by the city; the county supervisor
  sees it through the subtree, and everyone in the county is below the accused.
- R_reception: registered at a reception (被反映单位待确定), then recorded as against 生态环境分局.
- The hardest case: a person with an ordinary matter handled by 住建局 who also reports 住建局.
  住建局 legitimately sees that person on the ordinary matter; it must never reach the report.

For each user of an accused unit: start at the queue, backlog, reception, outbox, routing pages,
/api/cases and the API detail of every matter id; follow every same-site link and GET form;
download every document; POST a reveal for every matter the user can open (page and API),
search the queue for the complainants of reports the user can open, and ask /routing/suggest
with each complainant's phone and ID number. No response may carry the complainant of a report
against the user's unit; no page may name a report the user may not open; nothing answers 500.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import ric

from tests.crawl import Crawler, Page
from tests.factories import bj, make_user, petitioner, register
from xinfang.api.services import api_token_issue
from xinfang.backlog import flagging as backlog_flagging
from xinfang.backlog import methods as backlog_methods
from xinfang.backlog.models import HearingParticipant
from xinfang.cases import access, services
from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, Channel, Kind, Outcome, Representative
from xinfang.demo.org import ensure_demo_org
from xinfang.demo.run import generate
from xinfang.orgs.models import Role, User
from xinfang.reception import services as reception_services
from xinfang.reception.models import Booking

NOW = bj(2026, 11, 20, 15, 30)  # a Friday
DEMO_CASES = 24  # every state at least once; a seed whose matters include 检举控告
CAP = 3000  # requests per user
STARTS = [
    "/cases/",
    "/backlog/",
    "/reception/",
    "/notify/",
    "/routing/hot/",
    "/routing/report/",
    "/api/cases",
    "/api/units",
    "/api/categories",
]
API_SCOPES = ("lead", "office", "review", "rereview", "co")
# Calendar pages link to the month before and after without end: the months around NOW.
MONTHS = {"2026-10", "2026-11", "2026-12"}
# Who is fixing which area (issue 9): a leak there is reported, not fixed here.
OWNERS = {
    "/backlog/": "backlog",
    "/reception/": "reception",
    "/notify/": "notify",
    "/open311/": "api/open311",
    "/api/": "api",
    "/cases/": "cases",
    "/routing/": "routing",
    "/portal/": "portal",
}


def _id(seq: int) -> str:
    """A valid resident ID number used by one complainant only."""
    body = f"11010519800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function expects a placeholder digit


@dataclass
class Report:
    case: Case
    label: str
    name: str = ""
    phone: str = ""
    id_number: str = ""
    check_title: bool = True  # the title is unique to this report
    check_identity: bool = True  # False for the person who also has an ordinary matter

    def secrets(self) -> list[tuple[str, str]]:
        if not self.check_identity:
            return []
        out = [(f"{self.label} 信访人姓名", self.name)] if self.name else []
        if self.phone:
            out.append((f"{self.label} 电话", self.phone))
        if self.id_number:
            out.append((f"{self.label} 身份证号", self.id_number))
        return out


@dataclass
class World:
    reports: list[Report]
    shared_ordinary: Case
    users: list[User]
    case_ids: list[int]
    notes: list[str] = field(default_factory=list)


def _pattern(value: str) -> str:
    """Digits are matched as whole numbers (a phone is not a part of a longer number)."""
    escaped = re.escape(value)
    if value[:1].isdigit():
        return rf"(?<![0-9]){escaped}(?![0-9Xx])"
    return escaped


# ---------------------------------------------------------------- the world


def _build(tmp_path) -> World:
    org = ensure_demo_org()
    generate(cases=DEMO_CASES, seed=40, now=NOW, org=org, fill=False)  # its own world below
    u, users = org.units, org.users
    clerk, supervisor = users["clerk"], users["supervisor"]
    # a few more roles: the office's head, clerks in an accused bureau, a town and a school
    extra = {
        "xf_head": make_user("xf_head", u["office"], Role.HEAD, display_name="信访局负责人"),
        "zj_clerk": make_user("zj_clerk", u["zj"], Role.CLERK, display_name="住建局内勤"),
        "donghu_clerk": make_user("donghu_clerk", u["donghu"], Role.CLERK, display_name="东湖内勤"),
        "school1_clerk": make_user(
            "school1_clerk", u["school1"], Role.CLERK, display_name="实验小学内勤"
        ),
    }
    place, town_place = org.places["county"], org.places["donghu"]
    cat = org.categories
    seq = iter(range(1, 100))
    reports: list[Report] = []

    def person(name: str, phone: str) -> services.Petitioner:
        return services.Petitioner(
            name=name, phone=phone, id_number=_id(next(seq)), address="示范县城关镇某小区"
        )

    def report(
        label,
        *,
        who,
        at,
        kind=Kind.ACCUSATION,
        channel=Channel.VISIT,
        title,
        content,
        accused=None,
        others=(),
        category=None,
        attachments=None,
        **extra_fields,
    ) -> Report:
        case = services.case_register(
            services.Registration(
                office=u["office"],
                channel=channel,
                kind=kind,
                title=title,
                content=content,
                place=extra_fields.pop("place", place),
                category=category,
                petitioner=who,
                accused_unit=accused,
                other_accused_units=list(others),
                accused_person="某科长",
                attachments=attachments or (),
            ),
            by=clerk,
            at=at,
        ).case
        r = Report(case, label, who.name, who.phone, who.id_number)
        reports.append(r)
        return r

    # R_zj: against 住建局, handled by 人社局, replied; attachment, backlog hearing, reception, booking
    who = person("隗密甲", "13900000011")
    letter = SimpleUploadedFile(
        "举报信.txt", f"举报人：{who.name} 电话：{who.phone}".encode(), content_type="text/plain"
    )
    r_zj = report(
        "R_zj",
        who=who,
        at=bj(2026, 10, 9, 9),
        title="举报住建局质监站违规收费甲",
        content="住建局质监站违规收取检测费用，请予查处。",
        accused=u["zj"],
        category=cat["LD01"],
        attachments=[letter],
    )
    services.case_route(case=r_zj.case, by=clerk, unit=u["rs"], at=bj(2026, 10, 9, 11))
    services.case_accept(case=r_zj.case, by=users["officer"], at=bj(2026, 10, 12, 9))
    services.case_reply(
        case=r_zj.case,
        by=users["officer"],
        outcome=Outcome.SUPPORTED,
        text="经调查情况属实，已责令整改。",
        at=bj(2026, 11, 18, 10),
    )

    # R_cg: 12345 举报 against 城管局, handled by 市场监管局, accepted
    who = person("隗密乙", "13900000022")
    r_cg = report(
        "R_cg",
        who=who,
        at=bj(2026, 11, 16, 20),
        kind=Kind.HOTLINE_REPORT,
        channel=Channel.PHONE,
        title="举报城管队员吃拿卡要乙",
        content="城管队员在夜市收取摊贩好处费。",
        accused=u["cg"],
        category=cat["SM01"],
    )
    services.case_route(case=r_cg.case, by=clerk, unit=u["sj"], at=bj(2026, 11, 16, 21))
    services.case_accept(case=r_cg.case, by=users["sj_officer"], at=bj(2026, 11, 17, 9))

    # R_donghu: 12345 投诉 against 东湖街道 and 城管局, handled by 住建局, replied
    who = person("隗密丙", "13900000033")
    r_donghu = report(
        "R_donghu",
        who=who,
        at=bj(2026, 11, 10, 10),
        kind=Kind.HOTLINE_COMPLAINT,
        channel=Channel.PHONE,
        title="投诉东湖街道拆违不公丙",
        content="街道和城管只拆我家，不拆邻居的违建。",
        accused=u["donghu"],
        others=[u["cg"]],
        category=cat["CJ01"],
        place=town_place,
    )
    services.case_route(case=r_donghu.case, by=clerk, unit=u["zj"], at=bj(2026, 11, 10, 11))
    services.case_accept(case=r_donghu.case, by=users["zj_officer"], at=bj(2026, 11, 10, 15))
    services.case_reply(
        case=r_donghu.case,
        by=users["zj_officer"],
        outcome=Outcome.EXPLAINED,
        text="已协调街道依法处理。",
        at=bj(2026, 11, 13, 10),
    )

    # R_jy: against 教育局 (schools below), handled by 纪委监委: extended, replied, under review
    who = person("隗密丁", "13900000044")
    r_jy = report(
        "R_jy",
        who=who,
        at=bj(2026, 7, 1, 9),
        title="举报教育局招生暗箱操作丁",
        content="教育局招生办违规录取，请查处。",
        accused=u["jy"],
        category=cat["JY01"],
    )
    services.case_route(case=r_jy.case, by=clerk, unit=u["jw"], at=bj(2026, 7, 1, 10))
    services.case_accept(case=r_jy.case, by=users["jw_officer"], at=bj(2026, 7, 3, 9))
    services.case_extend(
        case=r_jy.case, by=users["jw_head"], days=30, reason="需调取招生档案", at=bj(2026, 8, 20, 9)
    )
    services.case_reply(
        case=r_jy.case,
        by=users["jw_officer"],
        outcome=Outcome.NOT_SUPPORTED,
        text="经核查未发现违规。",
        at=bj(2026, 9, 15, 9),
    )
    services.case_request_review(case=r_jy.case, by=clerk, reason="不服答复", at=bj(2026, 9, 20, 9))

    # R_office: against the petition office itself, handled by 纪委监委; a duplicate merged in
    who = person("隗密戊", "13900000055")
    r_office = report(
        "R_office",
        who=who,
        at=bj(2026, 11, 2, 9),
        title="举报信访局推诿不登记戊",
        content="信访局工作人员多次推诿，不予登记。",
        accused=u["office"],
    )
    services.case_route(case=r_office.case, by=clerk, unit=u["jw"], at=bj(2026, 11, 2, 10))
    services.case_accept(case=r_office.case, by=users["jw_officer"], at=bj(2026, 11, 3, 9))
    dup = report(
        "R_office_dup",
        who=who,
        at=bj(2026, 11, 4, 9),
        title="再举报信访局推诿戊二",
        content="信访局仍然推诿，再次举报。",
        accused=u["office"],
    )
    services.case_merge(
        case=dup.case,
        into=r_office.case,
        by=clerk,
        note="同一举报人同一事项",
        at=bj(2026, 11, 4, 10),
    )

    # The hardest case: an ordinary matter handled by 住建局, and a report of the same person
    # against 住建局 (its number and title never reach 住建局; the person may, on the ordinary one).
    shared_who = person("隗同人", "13900000077")
    ordinary = services.case_register(
        services.Registration(
            office=u["office"],
            channel=Channel.VISIT,
            kind=Kind.APPEAL,
            title="小区物业不作为庚",
            content="物业公司长期不维修电梯。",
            place=town_place,
            category=cat["CJ01"],
            petitioner=services.Petitioner(**vars(shared_who)),
        ),
        by=clerk,
        at=bj(2026, 11, 6, 9),
    ).case
    services.case_route(case=ordinary, by=clerk, unit=u["zj"], at=bj(2026, 11, 6, 10))
    services.case_accept(case=ordinary, by=users["zj_officer"], at=bj(2026, 11, 7, 9))
    shared = report(
        "R_shared",
        who=services.Petitioner(**vars(shared_who)),
        at=bj(2026, 11, 9, 9),
        title="举报住建局物业科包庇庚",
        content="住建局物业科包庇物业公司。",
        accused=u["zj"],
    )
    shared.check_identity = False
    services.case_route(case=shared.case, by=clerk, unit=u["rs"], at=bj(2026, 11, 9, 10))

    # Backlog: the report against 住建局 with a hearing that names the complainant; the one
    # against 教育局; and the ordinary matter of the shared person.
    backlog = backlog_flagging.backlog_flag(
        case=r_zj.case, by=None, reason="多次反映未化解", at=bj(2026, 11, 19, 9)
    )
    backlog_methods.hearing_record(
        backlog=backlog,
        by=supervisor,
        held_on=bj(2026, 11, 19, 9).date(),
        place="县信访局会议室",
        participants=[
            (HearingParticipant.Kind.PETITIONER, r_zj.name),
            (HearingParticipant.Kind.LAWYER, "律师甲"),
        ],
        minutes="听取信访人意见。",
        findings="诉求合理。",
        decision="责令整改。",
        at=bj(2026, 11, 19, 15),
    )
    backlog_flagging.backlog_flag(
        case=r_jy.case, by=None, reason="进入复查", at=bj(2026, 11, 19, 9)
    )
    backlog_flagging.backlog_flag(
        case=ordinary, by=None, reason="电梯长期停用", at=bj(2026, 11, 19, 9)
    )

    # Reception: a record raising R_zj with an instruction to its handler; a new report
    # registered there (被反映单位待确定), then recorded as against 生态环境分局; the duty
    # leader of the day is 住建局's head, and R_zj's complainant books a slot with him.
    record = reception_services.record_create(
        office=u["office"],
        by=clerk,
        held_at=bj(2026, 11, 18, 9),
        leader=supervisor,
        place="接待大厅",
        visitors=1,
        summary="群众反映问题",
        case_numbers=[r_zj.case.number],
    )
    reception_services.instruction_add(
        record=record,
        by=clerk,
        text="请人社局抓紧办结",
        owner_unit=u["rs"],
        days=10,
        case=r_zj.case,
    )
    who = person("隗密庚", "13900000088")
    case = reception_services.record_register_case(
        record=record,
        by=clerk,
        kind=Kind.ACCUSATION,
        title="举报环保分局执法不公庚",
        content="环保分局对同类企业处罚不一。",
        place=place,
        petitioner=who,
    )
    services.case_record_accused(case=case, by=clerk, units=[u["hb"]], person="某队长")
    services.case_route(case=case, by=clerk, unit=u["rs"], at=bj(2026, 11, 18, 11))
    reports.append(Report(case, "R_reception", who.name, who.phone, who.id_number))
    reception_services.rota_day_set(
        office=u["office"], by=clerk, date=NOW.date(), leader=users["zj_head"]
    )
    slot = reception_services.slot_create(
        office=u["office"],
        by=clerk,
        date=NOW.date(),
        start=bj(2026, 11, 20, 16).time(),
        end=bj(2026, 11, 20, 17).time(),
        capacity=5,
        leader=users["zj_head"],
        place="接待室",
    )
    reception_services.slot_book(
        slot_id=slot.pk,
        name=r_zj.name,
        phone=r_zj.phone,
        description="反映住建局质监站问题",
        case_number=r_zj.case.number,
    )
    reception_services.slot_book(
        slot_id=slot.pk, name="路人辛", phone="13700000099", description="咨询住房补贴"
    )

    # The demo's own reports: their phone and ID numbers, and the name where no one else has it.
    notes: list[str] = []
    mine = {r.case.pk for r in reports}
    others_text = _public_text(exclude=mine)
    for case in Case.objects.filter(kind__in=CONFIDENTIAL_KINDS).exclude(pk__in=mine):
        if not case.accused_unit_id:
            continue
        r = Report(
            case,
            f"demo {case.number}",
            phone=case.petitioner_phone,
            id_number=case.petitioner_id_number,
            check_title=False,
        )
        same = Case.objects.exclude(kind__in=CONFIDENTIAL_KINDS).filter(petitioner_phone=r.phone)
        if r.phone and same.exists():
            r.phone = ""  # also on an ordinary matter (the demo draws numbers at random)
        name = case.petitioner_name
        if name and not case.anonymous and name not in others_text:
            r.name = name
        reports.append(r)
    for r in reports:  # as saved (accused units recorded after registration, states)
        r.case = Case.objects.select_related("accused_unit").get(pk=r.case.pk)
    notes.append(f"{len(reports)} reports, of them {len(reports) - len(mine)} from the demo")
    all_users = list(
        User.objects.select_related("unit")
        .filter(is_active=True, is_superuser=False)
        .exclude(unit=None)
    )
    assert extra["xf_head"] in all_users
    return World(
        reports=reports,
        shared_ordinary=ordinary,
        users=all_users,
        case_ids=list(Case.objects.values_list("pk", flat=True)),
        notes=notes,
    )


def _build_county(c, people) -> World:
    """A small county (tests.factories) whose government is accused: the report goes to the city."""
    extra = [
        make_user("county_head", c.county, Role.HEAD, display_name="区政府负责人"),
        make_user("school_clerk", c.school, Role.CLERK, display_name="实验小学内勤"),
        make_user("town_head", c.town, Role.HEAD, display_name="街道负责人"),
    ]
    city_supervisor = make_user("city_supervisor", c.city, Role.SUPERVISOR, display_name="市督查室")
    clerk, reports = people.clerk, []

    def report(label, name, phone, seq, *, at, kind=Kind.ACCUSATION, title, **kw) -> Report:
        who = petitioner(name=name, phone=phone, id_number=_id(seq))
        case = register(
            c,
            clerk,
            at,
            kind=kind,
            title=title,
            petitioner=who,
            content=f"{title}，请上级机关查处。",
            accused_unit=c.county,
            **kw,
        )
        case = services.case_route(case=case, by=clerk, unit=c.city, at=at + dt.timedelta(hours=1))
        r = Report(case, label, name, phone, who.id_number)
        reports.append(r)
        return r

    letter = SimpleUploadedFile(
        "举报信.txt", "举报人：隗县甲 电话：13900000111".encode(), content_type="text/plain"
    )
    r = report(
        "R_county",
        "隗县甲",
        "13900000111",
        11,
        at=bj(2026, 11, 5, 9),
        title="举报区政府违规征地甲",
        attachments=[letter],
    )
    services.case_accept(case=r.case, by=people.rereviewer, at=bj(2026, 11, 6, 9))
    services.case_reply(
        case=r.case,
        by=people.rereviewer,
        outcome=Outcome.SUPPORTED,
        text="已责成区政府整改。",
        at=bj(2026, 11, 18, 9),
    )
    hotline = report(
        "R_county_12345",
        "隗县乙",
        "13900000122",
        12,
        at=bj(2026, 11, 16, 20),
        kind=Kind.HOTLINE_REPORT,
        channel=Channel.PHONE,
        title="举报区政府公车私用乙",
    )
    services.case_accept(case=hotline.case, by=people.rereviewer, at=bj(2026, 11, 17, 9))
    # the same person: an ordinary matter handled by 人社局, and a report against the county
    shared_who = petitioner(name="隗县同", phone="13900000133", id_number=_id(13))
    ordinary = register(c, clerk, bj(2026, 11, 6, 9), petitioner=shared_who, title="社保断缴补缴丙")
    ordinary = services.case_route(case=ordinary, by=clerk, unit=c.hr, at=bj(2026, 11, 6, 10))
    shared = report(
        "R_county_shared",
        "隗县同",
        "13900000133",
        13,
        at=bj(2026, 11, 9, 9),
        title="举报区政府拖延补偿丙",
    )
    shared.check_identity = False
    services.case_route(
        case=register(c, clerk, bj(2026, 11, 10, 9), title="入学划片争议丁", category=c.schooling),
        by=clerk,
        unit=c.edu,
        co_units=[c.hr],
        at=bj(2026, 11, 10, 10),
    )
    backlog = backlog_flagging.backlog_flag(
        case=r.case, by=None, reason="多次反映", at=bj(2026, 11, 19, 9)
    )
    backlog_methods.hearing_record(
        backlog=backlog,
        by=city_supervisor,
        held_on=bj(2026, 11, 19, 9).date(),
        place="市信访局",
        participants=[(HearingParticipant.Kind.PETITIONER, r.name)],
        minutes="听取意见。",
        findings="属实。",
        decision="整改。",
        at=bj(2026, 11, 19, 15),
    )
    record = reception_services.record_create(
        office=c.office,
        by=clerk,
        held_at=bj(2026, 11, 18, 9),
        leader=people.supervisor,
        place="接待大厅",
        summary="群众反映问题",
        case_numbers=[r.case.number],
    )
    reception_services.instruction_add(
        record=record, by=clerk, text="请市政府督办", owner_unit=c.hr, days=10
    )
    slot = reception_services.slot_create(
        office=c.office,
        by=clerk,
        date=NOW.date(),
        start=bj(2026, 11, 20, 16).time(),
        end=bj(2026, 11, 20, 17).time(),
        capacity=5,
        leader=people.supervisor,
        place="接待室",
    )
    reception_services.slot_book(
        slot_id=slot.pk,
        name=r.name,
        phone=r.phone,
        description="反映区政府征地问题",
        case_number=r.case.number,
    )
    for r in reports:
        r.case = Case.objects.select_related("accused_unit").get(pk=r.case.pk)
    users = list(
        User.objects.select_related("unit")
        .filter(is_active=True, is_superuser=False)
        .exclude(unit=None)
    )
    assert set(extra) <= set(users)
    return World(
        reports=reports,
        shared_ordinary=ordinary,
        users=users,
        case_ids=list(Case.objects.values_list("pk", flat=True)),
    )


def _public_text(*, exclude: set[int]) -> str:
    """Text that anyone may legitimately see beside the reports: other matters, people, units."""
    parts = []
    for row in (
        Case.objects.exclude(pk__in=exclude)
        .exclude(kind__in=CONFIDENTIAL_KINDS)
        .values_list("petitioner_name", "title", "content", "accused_person", "petitioner_address")
    ):
        parts += row
    parts += Case.objects.filter(kind__in=CONFIDENTIAL_KINDS).values_list("title", flat=True)
    parts += Case.objects.filter(kind__in=CONFIDENTIAL_KINDS).values_list("content", flat=True)
    parts += Representative.objects.values_list("name", flat=True)
    parts += Booking.objects.values_list("name", flat=True)
    parts += User.objects.values_list("display_name", flat=True)
    return "\n".join(parts)


# ---------------------------------------------------------------- what a user must not get


@dataclass
class Rules:
    """What one user must not find: (what, regex) pairs, from the reports against their unit."""

    secrets: list[tuple[str, str, re.Pattern]]
    hidden: list[tuple[str, str, re.Pattern]]  # reports the user may not open: number, title
    accused_reports: list[Report]

    def find(self, page: Page) -> list[str]:
        text = page.text  # a plain `in` first: the regex only confirms a hit
        return [
            what
            for what, value, rx in self.secrets + self.hidden
            if value in text and rx.search(text)
        ]


def _rules(user: User, world: World) -> Rules | None:
    accused = [r for r in world.reports if access.in_accused_unit(user, r.case)]
    if not accused:
        return None
    secrets = [(what, v, re.compile(_pattern(v))) for r in accused for what, v in r.secrets()]
    hidden = []
    for r in accused:
        if access.can_view(user, r.case):
            continue  # e.g. the accused petition office's clerk: the matter, not its complainant
        hidden.append((f"{r.label} 事项编号", r.case.number, re.compile(_pattern(r.case.number))))
        if r.check_title:
            hidden.append((f"{r.label} 标题", r.case.title, re.compile(re.escape(r.case.title))))
    return Rules(secrets, hidden, accused)


def _keep(url: str) -> bool:
    month = re.search(r"[?&]month=([0-9-]+)", url)
    if month and month.group(1) not in MONTHS:
        return False
    day = re.match(r"^/reception/day/[^/]+/(\d{4}-\d{2})-\d{2}/", url)
    return not (day and day.group(1) not in MONTHS)


DRILL_DOWNS = ("/reports/rates/matters/", "/reports/dashboard/matters/")


def _follow(page: Page) -> bool:
    """A drill-down that lists no matter is read, but its Excel and JSON twins (the same empty
    query in another format) are not fetched: the statistics link to thousands of empty cells,
    and their twins were half of the crawl's requests. A drill-down with matters is followed."""
    return not (page.url.startswith(DRILL_DOWNS) and "没有事项。" in page.text)


def _api_next(page: Page) -> list[str]:
    """The API queue pages by a cursor, not a link: follow `next` like a client would."""
    if (
        not page.url.startswith("/api/cases")
        or page.status != 200
        or "json" not in page.content_type
    ):
        return []
    try:
        data = json.loads(page.body)
    except ValueError:
        return []
    if isinstance(data, dict) and data.get("next"):
        base = re.sub(r"[?&]after=[^&]*", "", page.url)
        return [f"{base}{'&' if '?' in base else '?'}after={data['next']}"]
    return []


def _crawl_user(client, user: User, world: World, rules: Rules) -> tuple[Crawler, list]:
    client.force_login(user)
    token = api_token_issue(user=user, name="crawl")
    crawler = Crawler(
        client,
        headers={"HTTP_AUTHORIZATION": f"Bearer {token}"},
        cap=CAP,
        keep=_keep,
        more=_api_next,
        follow=_follow,
    )
    starts = STARTS + [f"/api/cases?scope={s}" for s in API_SCOPES]
    starts += [f"/api/cases/{pk}" for pk in world.case_ids]
    crawler.run(starts)
    problems: list[tuple[str, str]] = []
    opened = sorted(
        {
            int(m.group(1))
            for p in crawler.pages
            if p.status == 200
            for m in [re.match(r"^/cases/(\d+)/$", p.url)]
            if m
        }
    )
    api_opened = sorted(
        {
            int(m.group(1))
            for p in crawler.pages
            if p.status == 200
            for m in [re.match(r"^/api/cases/(\d+)$", p.url)]
            if m
        }
    )
    for pk in opened:  # 查看完整身份信息 on every matter the user can open
        crawler.post(f"/cases/{pk}/reveal/", {"reason": "核实身份"})
    for pk in api_opened:
        crawler.post(
            f"/api/cases/{pk}/reveal",
            json.dumps({"reason": "核实身份"}),
            content_type="application/json",
        )
    for r in world.reports:  # search for the complainant of each report the user can open
        if r in rules.accused_reports and access.can_view(user, r.case):
            for value in (r.name, r.phone, r.id_number):
                if value:
                    # the page echoes the query: only whether it finds the report counts here
                    url = "/cases/?" + urlencode({"scope": "office", "q": value})
                    response = client.get(url)
                    crawler.requests += 1
                    if response.status_code >= 500:
                        crawler.errors.append((url, response.status_code))
                    if r.case.number in response.content.decode():
                        problems.append((url, f"以信访人信息检索找到了 {r.label}"))
    for r in rules.accused_reports:  # the same-person oracle of the registration form
        phone, id_number = (
            (r.phone, r.id_number)
            if r.check_identity
            else (r.case.petitioner_phone, r.case.petitioner_id_number)
        )
        if not (phone or id_number):
            continue
        page = crawler.post(
            "/routing/suggest",
            {
                "title": r.case.title,
                "content": r.case.content,
                "petitioner_phone": phone,
                "petitioner_id_number": id_number,
            },
        )
        if page.status == 200:
            same = [c["id"] for c in json.loads(page.body).get("same_petitioner", [])]
            if r.case.pk in same:
                problems.append(
                    ("/routing/suggest", f"POST（{r.label} 的电话/身份证号）列出了该举报事项")
                )
    return crawler, problems


def _area(url: str) -> str:
    return next((owner for prefix, owner in OWNERS.items() if url.startswith(prefix)), "other")


# Requests each demo user's crawl makes (`CRAWL_STATS=1 pytest tests/test_crawl_accused.py -n 0
# -s` prints them), to share the users among the shards by cost: the office's clerk and head
# make nearly four times the requests of a town's officer. A user not listed counts as typical.
CRAWL_COST = {
    "clerk": 778,
    "xf_head": 775,
    "zj_head": 513,
    "zj_clerk": 495,
    "zj_officer": 493,
    "hb_head": 276,
    "hb_officer": 276,
    "jy_head": 270,
    "jy_officer": 270,
    "nanhe_head": 238,
    "nanhe_officer": 238,
}
TYPICAL_COST = 200


def _shard(world: World, shard: tuple[int, int]) -> list[User]:
    """This shard's users (the world is built again per shard, in a second or two, so that
    pytest-xdist spreads the crawl over every core): the accused units' users, costliest first,
    each given to the shard with the least cost so far, so that the shards take about as long."""
    index, count = shard
    accused = sorted(
        (u for u in world.users if _rules(u, world) is not None),
        key=lambda u: (-CRAWL_COST.get(u.username, TYPICAL_COST), u.username),
    )
    loads, mine = [0] * count, []
    for user in accused:
        lightest = loads.index(min(loads))
        loads[lightest] += CRAWL_COST.get(user.username, TYPICAL_COST)
        if lightest == index:
            mine.append(user)
    return mine


def _crawl_all(client, world: World, shard: tuple[int, int] = (0, 1)) -> dict:
    """Crawl as every user of an accused unit in the shard; collect 500s, capped crawls and
    leaks by area."""
    leaks: dict[str, list[str]] = defaultdict(list)
    out = {"crawled": [], "requests": 0, "errors": [], "capped": [], "leaks": leaks}
    only = set(filter(None, os.environ.get("CRAWL_USERS", "").split(",")))  # to debug one user
    for user in _shard(world, shard):
        rules = _rules(user, world)
        if rules is None or (only and user.username not in only):
            continue
        started = time.monotonic()
        crawler, problems = _crawl_user(client, user, world, rules)
        out["crawled"].append(user.username)
        out["requests"] += crawler.requests
        if os.environ.get("CRAWL_STATS"):
            print(user.username, crawler.requests, f"{time.monotonic() - started:.1f}s")
        if crawler.hit_cap:
            out["capped"].append(f"{user.username} ({crawler.requests} requests)")
        out["errors"] += [f"{user.username}: {url} -> {status}" for url, status in crawler.errors]
        who = f"{user.username}（{user.unit.name}·{user.get_role_display()}）"
        for page in crawler.pages:
            found = rules.find(page)
            if found:
                leaks[_area(page.url)].append(
                    f"{who} GET/POST {page.url} [{page.status}]: " + "、".join(found)
                )
        for url, what in problems:
            leaks[_area(url)].append(f"{who} {url}: {what}")
        client.logout()
    return out


def _assert_clean(result: dict) -> None:
    assert not result["errors"], "HTTP 500 during the crawl:\n" + "\n".join(result["errors"])
    assert not result["capped"], f"the crawl hit its cap of {CAP} requests for: {result['capped']}"
    leaks = result["leaks"]
    assert not leaks, (
        "the accused unit reached the complainant or the report (grouped by area; backlog, "
        "reception, notify and api/open311 are being fixed by their owners):\n"
        + "\n".join(
            f"== {area} ({len(lines)})\n" + "\n".join(lines[:40])
            for area, lines in sorted(leaks.items())
        )
    )


DEMO_SHARDS = 4
COUNTY_SHARDS = 2


@pytest.mark.slow
@pytest.mark.crawl
@pytest.mark.parametrize("index", range(DEMO_SHARDS))
def test_a_crawl_as_each_accused_user_never_finds_the_complainant(
    db, client, settings, tmp_path, index
):
    settings.MEDIA_ROOT = str(tmp_path)
    started = time.monotonic()
    with time_machine.travel(NOW, tick=False):
        world = _build(tmp_path)
        mine = {user.username for user in _shard(world, (index, DEMO_SHARDS))}
        result = _crawl_all(client, world, (index, DEMO_SHARDS))
    print(
        f"demo world: crawled {len(result['crawled'])} users, {result['requests']} requests in "
        f"{time.monotonic() - started:.1f}s; {'; '.join(world.notes)}"
    )
    if not os.environ.get("CRAWL_USERS"):
        assert {
            "clerk",
            "xf_head",
            "zj_officer",
            "zj_head",
            "zj_clerk",
            "cg_officer",
            "cg_head",
            "donghu_officer",
            "donghu_clerk",
            "jy_officer",
            "jy_head",
            "school1_officer",
            "school1_clerk",
            "school2_head",
            "hb_officer",
            "hb_head",
        } & mine <= set(result["crawled"])
    _assert_clean(result)


@pytest.mark.slow
@pytest.mark.crawl
@pytest.mark.parametrize("index", range(COUNTY_SHARDS))
def test_a_crawl_when_the_county_government_is_accused(
    db, client, county, people, settings, tmp_path, index
):
    """Everyone in the county is below the accused: the supervisor, who opens the report through
    the subtree, the petition office that registered it, and every bureau, school and town."""
    settings.MEDIA_ROOT = str(tmp_path)
    started = time.monotonic()
    with time_machine.travel(NOW, tick=False):
        world = _build_county(county, people)
        mine = {user.username for user in _shard(world, (index, COUNTY_SHARDS))}
        result = _crawl_all(client, world, (index, COUNTY_SHARDS))
    print(
        f"county world: crawled {len(result['crawled'])} users, {result['requests']} requests in "
        f"{time.monotonic() - started:.1f}s"
    )
    assert {
        "clerk",
        "supervisor",
        "county_head",
        "reviewer",
        "officer",
        "head",
        "outsider",
        "accused",
        "school_clerk",
    } & mine <= set(result["crawled"])
    assert "rereviewer" not in result["crawled"]  # the city handles it
    _assert_clean(result)


def test_the_crawler_reads_what_a_person_would_read():
    """The search sees a name split over Word runs, escaped in JSON, folded in iCalendar, and
    percent-encoded in a file name; links come from hrefs and GET forms, not POST forms."""
    from django.http import HttpResponse

    from tests.crawl import _Links, canonical, searchable

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "word/document.xml", "<w:p><w:r><w:t>隗</w:t></w:r><w:r><w:t>密甲</w:t></w:r></w:p>"
        )
        z.writestr("docProps/core.xml", "<dc:creator>13900000011</dc:creator>")
    docx = HttpResponse(buffer.getvalue(), content_type="application/vnd.openxmlformats")
    text = searchable(docx)
    assert "隗密甲" in text and "13900000011" in text
    assert "隗密甲" in searchable(HttpResponse('{"name": "\\u9697\\u5bc6\\u7532"}'))
    assert "隗密甲" in searchable(HttpResponse("DESCRIPTION:举报人隗\r\n 密甲\r\n"))
    named = HttpResponse(b"")
    named["Content-Disposition"] = "attachment; filename*=UTF-8''%E9%9A%97%E5%AF%86%E7%94%B2.docx"
    assert "隗密甲" in searchable(named)

    parser = _Links()
    parser.feed(
        '<a href="/cases/1/">x</a><form method="get" action="/cases/"><input name="q" value="">'
        '<select name="state"><option value="">全部</option><option value="routed" selected>'
        '</option></select></form><form method="post" action="/cases/1/reveal/">'
        '<input name="reason"></form>'
    )
    assert parser.links == ["/cases/1/"]
    assert parser.forms == [("/cases/", [("q", ""), ("state", "routed")])]
    assert (
        canonical("/cases/?state=routed&q=&scope=lead&scope=co") == "/cases/?scope=co&state=routed"
    )
    assert canonical("/logout/") is None and canonical("https://example.com/cases/") is None
