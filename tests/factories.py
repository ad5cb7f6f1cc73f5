"""Builders for test data: a small county with its units, places, categories and personas."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from xinfang.cases import services
from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, Channel, Kind
from xinfang.cases.reactions import PLAIN, ReactionContext
from xinfang.orgs.models import Category, DispatchRule, Place, Role, Unit, User

BJ = ZoneInfo("Asia/Shanghai")
VALID_ID = "11010519491231002X"
VALID_PHONE = "13812345678"
PASSWORD = "demo-pass-123"


def bj(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


@dataclass
class County:
    province: Unit
    city: Unit
    county: Unit
    office: Unit
    hr: Unit
    edu: Unit
    housing: Unit
    school: Unit
    town: Unit
    place: Place
    town_place: Place
    wages: Category
    schooling: Category


def make_county() -> County:
    p_prov = Place.objects.create(code="430000", name="西地省")
    p_city = Place.objects.create(code="430100", name="A市", parent=p_prov)
    p_county = Place.objects.create(code="430102", name="A1区", parent=p_city)
    p_town = Place.objects.create(code="430102001", name="东湖街道", parent=p_county)
    G, L = Unit.Kind, Unit.Level
    province = Unit.objects.create(
        name="西地省人民政府", code="G43", level=L.PROVINCE, kind=G.GOVERNMENT, place=p_prov
    )
    city = Unit.objects.create(
        name="A市人民政府",
        code="G4301",
        parent=province,
        level=L.CITY,
        kind=G.GOVERNMENT,
        place=p_city,
    )
    county = Unit.objects.create(
        name="A1区人民政府",
        code="G430102",
        parent=city,
        level=L.COUNTY,
        kind=G.GOVERNMENT,
        place=p_county,
    )

    def unit(name, code, kind, parent=county, level=L.COUNTY, place=p_county):
        return Unit.objects.create(
            name=name, code=code, parent=parent, level=level, kind=kind, place=place
        )

    office = unit("A1区信访局", "XF430102", G.PETITION_OFFICE)
    hr = unit("A1区人力资源和社会保障局", "RS430102", G.DEPARTMENT)
    edu = unit("A1区教育局", "JY430102", G.DEPARTMENT)
    housing = unit("A1区住房和城乡建设局", "ZJ430102", G.DEPARTMENT)
    school = unit("A1区实验小学", "XX430102", G.SCHOOL, parent=edu)
    town = unit("东湖街道办事处", "JD430102001", G.TOWN, level=L.TOWN, place=p_town)
    labour = Category.objects.create(code="LD", name="劳动和社会保障")
    wages = Category.objects.create(code="LD01", name="拖欠工资", parent=labour)
    education = Category.objects.create(code="JY", name="教育文体")
    schooling = Category.objects.create(code="JY01", name="入学招生", parent=education)
    DispatchRule.objects.create(category=wages, place=None, unit=hr)
    DispatchRule.objects.create(category=schooling, place=None, unit=edu)
    return County(
        province,
        city,
        county,
        office,
        hr,
        edu,
        housing,
        school,
        town,
        p_county,
        p_town,
        wages,
        schooling,
    )


def make_user(username: str, unit: Unit | None, role: str, **extra) -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        unit=unit,
        role=role,
        display_name=extra.pop("display_name", username),
        **extra,
    )
    return user


@dataclass
class Personas:
    clerk: User
    officer: User
    head: User
    supervisor: User
    outsider: User
    accused_officer: User
    reviewer: User
    rereviewer: User
    admin: User


def make_personas(c: County) -> Personas:
    return Personas(
        clerk=make_user("clerk", c.office, Role.CLERK, display_name="登记员小王"),
        officer=make_user("officer", c.hr, Role.OFFICER, display_name="经办人小李"),
        head=make_user("head", c.hr, Role.HEAD, display_name="人社局张局长"),
        supervisor=make_user("supervisor", c.county, Role.SUPERVISOR, display_name="督查科赵科长"),
        outsider=make_user("outsider", c.edu, Role.OFFICER, display_name="教育局经办人"),
        accused_officer=make_user("accused", c.housing, Role.OFFICER, display_name="住建局经办人"),
        reviewer=make_user("reviewer", c.county, Role.OFFICER, display_name="区政府复查经办人"),
        rereviewer=make_user("rereviewer", c.city, Role.OFFICER, display_name="市政府复核经办人"),
        admin=make_user("admin", None, Role.ADMIN, is_staff=True, is_superuser=True),
    )


def petitioner(**kw) -> services.Petitioner:
    data = {
        "name": "张三",
        "id_number": VALID_ID,
        "phone": VALID_PHONE,
        "address": "A1区东湖街道1号",
    }
    data.update(kw)
    return services.Petitioner(**data)


def registration(c: County, **kw) -> services.Registration:
    """A wage appeal (来访) registered at the county office; `kw` overrides any field."""
    data = {
        "office": c.office,
        "channel": Channel.VISIT,
        "kind": Kind.APPEAL,
        "title": "某公司拖欠工资三个月",
        "content": "本人在某建筑公司务工，公司拖欠工资三个月未发，欠薪共计两万元，请求帮助追讨。",
        "place": c.place,
        "category": c.wages,
        "petitioner": petitioner(),
    }
    data.update(kw)
    if data["kind"] in CONFIDENTIAL_KINDS and not (
        data.get("accused_unit") or data.get("other_accused_units")
    ):
        # the registering clerk's decision that the report accuses no unit; tests of the
        # pending state (被反映单位待确定) pass no_accused_unit=False
        data.setdefault("no_accused_unit", True)
    return services.Registration(**data)


def register(
    c: County, by: User | None, at: dt.datetime, *, context: ReactionContext = PLAIN, **kw
) -> Case:
    return services.case_register(registration(c, **kw), by=by, at=at, context=context).case
