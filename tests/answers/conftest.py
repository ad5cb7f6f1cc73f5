"""Fixtures of the knowledge base's tests: a small starter file, matters replied and accepted."""

from __future__ import annotations

import csv

import pytest

from tests.factories import bj, register
from xinfang.answers import index
from xinfang.cases import services
from xinfang.cases.models import Outcome

HEADER = ["id", "user", "title", "time", "content", "reply", "reply_time"]
STARTER = [
    [
        "1",
        "A001",
        "小区楼下烧烤油烟扰民",
        "2019/4/25 9:32:09",
        "小区楼下烧烤店每晚油烟很大，噪音也大，影响休息，请求处理。联系电话13912345678",
        "网友您好！经核查，城管执法中队已于2019年5月2日对该烧烤店下达整改通知，"
        "依据《大气污染防治法》第一百一十八条，责令其7日内安装油烟净化设施。",
        "2019/5/10 14:56:53",
    ],
    [
        "2",
        "A002",
        "幼儿园入学报名咨询",
        "2019-04-08 08:37:20",
        "孩子今年三岁，想咨询公办幼儿园的报名时间和所需材料。",
        "您好！根据《A市学前教育入园招生办法》，公办幼儿园将于每年6月1日至6月10日网上报名，"
        "需提供户口簿和房产证明。",
        "2019/4/20 9:00:00",
    ],
    [
        "3",
        "A003",
        "道路施工长期未完工",
        "2019/4/24 16:03:40",
        "潇楚南路修了一年还没修好，出行很不方便。",
        "您好！该项目因管线迁改进度较慢，预计今年8月底完工通车。",
        "2019/5/9 9:49:10",
    ],
]


def write_starter(path, rows=STARTER, header=HEADER):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def _fresh_index():
    index.reset()
    yield
    index.reset()


@pytest.fixture
def starter_csv(tmp_path, settings):
    path = write_starter(tmp_path / "replies.csv")
    settings.XINFANG_REPLIES_CSV = str(path)
    return path


def accepted(county, people, **kw):
    """A matter routed to 人社局 and accepted by its officer: the reply is theirs to give."""
    case = register(county, people.clerk, bj(2026, 9, 16, 10), **kw)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 9, 17, 9))
    return services.case_accept(case=case, by=people.officer, at=bj(2026, 9, 18, 9))


def replied(county, people, *, text, at=None, outcome=Outcome.SUPPORTED, **kw):
    return services.case_reply(
        case=accepted(county, people, **kw),
        by=people.officer,
        outcome=outcome,
        text=text,
        at=at or bj(2026, 10, 9, 9),
    )
