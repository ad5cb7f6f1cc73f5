"""The demo organisation (演示单位): 西地省 → 示范市 → 示范县, its units, categories and people.

Everything here is idempotent: run it twice and nothing is duplicated; rows that already
exist (found by their codes and user names) are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from xinfang.orgs.models import Category, DispatchRule, Place, Role, Unit, User

DEMO_PASSWORD = "xinfang2026"  # noqa: S105 - 演示密码，仅用于演示环境，由 `xinfang demo` 打印

K, L = Unit.Kind, Unit.Level

# key, code, name, parent key
PLACES: list[tuple[str, str, str, str | None]] = [
    ("province", "990000", "西地省", None),
    ("city", "990100", "示范市", "province"),
    ("county", "990121", "示范县", "city"),
    ("chengguan", "990121001", "城关镇", "county"),
    ("donghu", "990121002", "东湖街道", "county"),
    ("beiling", "990121003", "北岭街道", "county"),
    ("xishan", "990121101", "西山镇", "county"),
    ("qingshi", "990121102", "青石镇", "county"),
    ("nanhe", "990121201", "南河乡", "county"),
]
TOWN_PLACES = ["chengguan", "donghu", "beiling", "xishan", "qingshi", "nanhe"]


@dataclass(frozen=True)
class UnitDef:
    key: str
    code: str
    name: str
    kind: str
    level: str
    parent: str | None
    place: str


def _dept(key: str, prefix: str, name: str, kind: str = K.DEPARTMENT) -> UnitDef:
    return UnitDef(key, f"{prefix}990121", f"示范县{name}", kind, L.COUNTY, "county", "county")


UNITS: list[UnitDef] = [
    UnitDef("province", "G99", "西地省人民政府", K.GOVERNMENT, L.PROVINCE, None, "province"),
    UnitDef("city", "G9901", "示范市人民政府", K.GOVERNMENT, L.CITY, "province", "city"),
    UnitDef("county", "G990121", "示范县人民政府", K.GOVERNMENT, L.COUNTY, "city", "county"),
    _dept("office", "XF", "信访局", K.PETITION_OFFICE),
    _dept("rs", "RS", "人力资源和社会保障局"),
    _dept("jy", "JY", "教育局"),
    _dept("zj", "ZJ", "住房和城乡建设局"),
    _dept("zr", "ZR", "自然资源局"),
    _dept("sj", "SJ", "市场监督管理局"),
    _dept("wj", "WJ", "卫生健康局"),
    _dept("jt", "JT", "交通运输局"),
    _dept("hb", "HB", "生态环境分局"),
    _dept("mz", "MZ", "民政局"),
    _dept("cg", "CG", "城市管理局"),
    _dept("ga", "GA", "公安局", K.POLITICAL_LEGAL),
    _dept("jw", "JW", "纪委监委", K.OTHER),
    UnitDef("chengguan", "ZF990121001", "城关镇人民政府", K.TOWN, L.TOWN, "county", "chengguan"),
    UnitDef("donghu", "ZF990121002", "东湖街道办事处", K.TOWN, L.TOWN, "county", "donghu"),
    UnitDef("beiling", "ZF990121003", "北岭街道办事处", K.TOWN, L.TOWN, "county", "beiling"),
    UnitDef("xishan", "ZF990121101", "西山镇人民政府", K.TOWN, L.TOWN, "county", "xishan"),
    UnitDef("qingshi", "ZF990121102", "青石镇人民政府", K.TOWN, L.TOWN, "county", "qingshi"),
    UnitDef("nanhe", "ZF990121201", "南河乡人民政府", K.TOWN, L.TOWN, "county", "nanhe"),
    UnitDef("school1", "XX990121001", "示范县实验小学", K.SCHOOL, L.COUNTY, "jy", "chengguan"),
    UnitDef("school2", "XX990121002", "示范县第一中学", K.SCHOOL, L.COUNTY, "jy", "donghu"),
]
# Units that handle matters (主办): each gets an officer and a head.
HANDLING_UNITS = [u.key for u in UNITS if u.kind not in {K.GOVERNMENT, K.PETITION_OFFICE}]

# Two-level category tree: (code, name, [(code, name, default unit key)]).
CATEGORIES: list[tuple[str, str, list[tuple[str, str, str]]]] = [
    ("LD", "劳动和社会保障", [("LD01", "拖欠工资", "rs"), ("LD02", "社会保险", "rs")]),
    (
        "CJ",
        "城乡建设",
        [("CJ01", "物业管理", "zj"), ("CJ02", "房屋质量", "zj"), ("CJ03", "占道经营", "cg")],
    ),
    ("JY", "教育文体", [("JY01", "入学招生", "jy"), ("JY02", "校园管理", "jy")]),
    ("HB", "环境保护", [("HB01", "噪声污染", "hb"), ("HB02", "大气污染", "hb")]),
    ("WS", "卫生计生", [("WS01", "医疗纠纷", "wj")]),
    ("JT", "交通运输", [("JT01", "出租车", "jt"), ("JT02", "道路养护", "jt")]),
    ("SM", "商贸旅游", [("SM01", "消费纠纷", "sj"), ("SM02", "食品安全", "sj")]),
    ("ZR", "自然资源", [("ZR01", "征地拆迁", "zr")]),
    ("ZF", "政法", [("ZF01", "治安管理", "ga")]),
    ("MZ", "民政", [("MZ01", "低保救助", "mz")]),
    ("JJ", "纪检监察", [("JJ01", "违纪违法", "jw")]),
]
# Place-specific dispatch: these categories in a town's area go to that town (属地管理).
LOCAL_CATEGORIES = {"CJ03": TOWN_PLACES, "MZ01": TOWN_PLACES, "CJ01": ["donghu", "beiling"]}


@dataclass(frozen=True)
class UserDef:
    username: str
    display_name: str
    unit: str | None
    role: str
    label: str  # 角色 as printed in the login table
    listed: bool = True


MAIN_USERS: list[UserDef] = [
    UserDef("clerk", "登记员王敏", "office", Role.CLERK, "信访局登记员"),
    UserDef("officer", "经办人李强", "rs", Role.OFFICER, "责任单位经办人"),
    UserDef("head", "人社局张局长", "rs", Role.HEAD, "单位负责人"),
    UserDef("supervisor", "督查室赵主任", "county", Role.SUPERVISOR, "督查督办"),
    UserDef("admin", "系统管理员", None, Role.ADMIN, "系统管理员"),
    UserDef("jy_officer", "教育局经办人陈静", "jy", Role.OFFICER, "其他单位经办人"),
    UserDef("reviewer", "县政府复查经办人刘洋", "county", Role.OFFICER, "复查机关经办人"),
    UserDef("rereviewer", "市政府复核经办人周航", "city", Role.OFFICER, "复核机关经办人"),
]


def _unit_users() -> list[UserDef]:
    """An officer and a head in every handling unit (人社局's are `officer` and `head`)."""
    names = {u.key: u.name for u in UNITS}
    out = []
    for key in HANDLING_UNITS:
        short = names[key].removeprefix("示范县")
        if key != "rs" and key != "jy":
            out.append(
                UserDef(f"{key}_officer", f"{short}经办人", key, Role.OFFICER, "经办人", False)
            )
        if key != "rs":
            out.append(
                UserDef(f"{key}_head", f"{short}负责人", key, Role.HEAD, "单位负责人", False)
            )
    return out


ALL_USERS = MAIN_USERS + _unit_users()


@dataclass
class DemoOrg:
    """The demo organisation as loaded from the database, keyed for quick look-ups."""

    places: dict[str, Place]
    units: dict[str, Unit]
    categories: dict[str, Category]
    users: dict[str, User]
    # (category code, place key or None) -> unit key
    dispatch: dict[tuple[str, str | None], str] = field(default_factory=dict)

    @property
    def office(self) -> Unit:
        return self.units["office"]

    def unit_key(self, unit_id: int) -> str:
        return next(k for k, u in self.units.items() if u.pk == unit_id)

    def lead_for(self, category: str, place: str) -> str:
        """The unit the dispatch catalogue names for this category in this place."""
        return self.dispatch.get((category, place)) or self.dispatch[(category, None)]

    def officer_of(self, unit_key: str) -> User:
        return self.users[_officer_name(unit_key)]

    def head_of(self, unit_key: str) -> User:
        return self.users[_head_name(unit_key)]

    def reviewer_of(self, unit_key: str) -> User:
        """The officer who decides a review (复查/复核) in this organ."""
        return self.users[
            {"county": "reviewer", "city": "rereviewer"}.get(unit_key) or _officer_name(unit_key)
        ]


def _officer_name(key: str) -> str:
    return {"rs": "officer", "jy": "jy_officer"}.get(key, f"{key}_officer")


def _head_name(key: str) -> str:
    return "head" if key == "rs" else f"{key}_head"


def ensure_demo_org() -> DemoOrg:
    """Create (or find) the demo places, units, categories, dispatch catalogue and people."""
    with transaction.atomic():
        places: dict[str, Place] = {}
        for key, code, name, parent in PLACES:
            places[key], _ = Place.objects.get_or_create(
                code=code, defaults={"name": name, "parent": places.get(parent) if parent else None}
            )
        units: dict[str, Unit] = {}
        for u in UNITS:
            units[u.key], _ = Unit.objects.get_or_create(
                code=u.code,
                defaults={
                    "name": u.name,
                    "kind": u.kind,
                    "level": u.level,
                    "place": places[u.place],
                    "parent": units[u.parent] if u.parent else None,
                },
            )
        categories: dict[str, Category] = {}
        dispatch: dict[tuple[str, str | None], str] = {}
        for code, name, children in CATEGORIES:
            top, _ = Category.objects.get_or_create(code=code, defaults={"name": name})
            for child_code, child_name, unit_key in children:
                categories[child_code], _ = Category.objects.get_or_create(
                    code=child_code, defaults={"name": child_name, "parent": top}
                )
                dispatch[(child_code, None)] = unit_key
                for place_key in LOCAL_CATEGORIES.get(child_code, []):
                    dispatch[(child_code, place_key)] = place_key
        for (code, place_key), unit_key in dispatch.items():
            DispatchRule.objects.get_or_create(
                category=categories[code],
                place=places[place_key] if place_key else None,
                defaults={"unit": units[unit_key]},
            )
        users = _ensure_users(units)
    return DemoOrg(
        places=places, units=units, categories=categories, users=users, dispatch=dispatch
    )


def _ensure_users(units: dict[str, Unit]) -> dict[str, User]:
    existing = {
        u.username: u for u in User.objects.filter(username__in=[d.username for d in ALL_USERS])
    }
    password = None
    users: dict[str, User] = {}
    for d in ALL_USERS:
        user = existing.get(d.username)
        if user is None:
            password = password or make_password(DEMO_PASSWORD)  # hash once: PBKDF2 is slow
            is_admin = d.role == Role.ADMIN
            user = User.objects.create(
                username=d.username,
                password=password,
                display_name=d.display_name,
                unit=units[d.unit] if d.unit else None,
                role=d.role,
                is_staff=is_admin,
                is_superuser=is_admin,
            )
        users[d.username] = user
    return users


def login_table(org: DemoOrg) -> list[tuple[str, str, str, str]]:
    """Rows of 角色 / 用户名 / 密码 / 单位 for the demo logins worth printing."""
    rows = []
    for d in MAIN_USERS:
        unit = org.units[d.unit].name if d.unit else "（全部）"
        rows.append((d.label, d.username, DEMO_PASSWORD, unit))
    return rows
