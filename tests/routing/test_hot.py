"""Hot issues: clustering, heat and growth, the page, the Excel export, the command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random

from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from tests.factories import PASSWORD, bj, register
from xinfang.routing import hot

BACKGROUND = [
    "学校食堂卫生差",
    "道路积水严重",
    "公交线路调整不便",
    "医院挂号排队太久",
    "菜市场乱收费",
    "公园设施损坏",
    "路灯不亮",
    "垃圾清运不及时",
    "停车收费不合理",
    "社区活动室关闭",
]


def _docs(month_start: dt.datetime, rng: random.Random) -> list[hot.HotDoc]:
    docs = []
    for i in range(20):  # 20 near-identical complaints this month, 2 last month
        docs.append(
            hot.HotDoc(
                f"n{i}",
                "丽发新城搅拌站噪音扰民",
                f"丽发新城小区附近搅拌站夜间施工噪音扰民{i}",
                month_start + dt.timedelta(days=rng.randint(0, 27)),
                user=f"u{i}",
            )
        )
    for i in range(2):
        docs.append(
            hot.HotDoc(
                f"p{i}",
                "丽发新城搅拌站噪音",
                "丽发新城附近搅拌站噪音扰民",
                month_start - dt.timedelta(days=10 + i),
                user=f"v{i}",
            )
        )
    for i in range(60):
        title = BACKGROUND[i % len(BACKGROUND)]
        docs.append(
            hot.HotDoc(
                f"b{i}",
                title,
                f"{title}，请有关部门处理。第{i}号",
                month_start + dt.timedelta(days=rng.randint(-30, 27)),
                user=f"w{i}",
            )
        )
    return docs


def test_a_cluster_of_twenty_rises_to_the_top_with_its_growth():
    start = dt.datetime(2026, 11, 1)
    docs = _docs(start, random.Random(3))
    clusters = hot.hot_clusters(docs, period=(start, dt.datetime(2026, 12, 1)))
    top = clusters[0]
    assert top.count == 20 and top.prev_count == 2
    assert top.growth == 2.0  # (20 - 2) / 2 = 9, clipped at +200%
    assert "搅拌站" in top.label or "丽发" in top.label
    assert top.candidate
    assert all(c.count < 20 for c in clusters[1:])
    assert top.heat > 2 * clusters[1].heat


def test_one_person_writing_many_times_weighs_as_one():
    start = dt.datetime(2026, 11, 1)
    many = [
        hot.HotDoc(
            i,
            "汉王陵公园建设缓慢",
            "请加快汉王陵公园建设",
            start + dt.timedelta(days=i),
            user="same",
        )
        for i in range(10)
    ]
    people = [
        hot.HotDoc(
            100 + i,
            "伊景园捆绑销售车位",
            "伊景园滨河苑捆绑销售车位",
            start + dt.timedelta(days=i),
            user=f"u{i}",
        )
        for i in range(5)
    ]
    clusters = hot.hot_clusters(many + people)
    assert [c.people for c in clusters] == [5, 1]
    assert clusters[1].count == 10


def test_likes_raise_the_heat():
    assert hot.heat_index(3, 0, 1000, 0) > hot.heat_index(3, 0, 0, 0) == 3
    assert hot.heat_index(3, 0, 5, 10) == 3  # more against-votes than likes: no bonus


def test_the_excel_export_opens(tmp_path):
    start = dt.datetime(2026, 11, 1)
    clusters = hot.hot_clusters(
        _docs(start, random.Random(1)), period=(start, dt.datetime(2026, 12, 1))
    )
    path = tmp_path / "hot.xlsx"
    hot.write_xlsx(clusters, path)
    sheet = load_workbook(path).active
    assert [c.value for c in sheet[2]][:4] == ["排名", "热点", "属地", "本期件数"]
    assert sheet.cell(row=3, column=4).value == 20
    assert sheet.cell(row=3, column=11).value == "是"


def test_the_command_on_a_csv_with_likes(tmp_path, db):
    path = tmp_path / "hot.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "user", "title", "time", "content", "against", "likes"])
        for i in range(8):
            writer.writerow(
                [
                    i,
                    f"u{i}",
                    "A5区魅力之城小区夜宵摊油烟扰民",
                    f"2019/8/{i + 1} 9:00:00",
                    "A5区魅力之城小区一楼夜宵摊油烟噪音扰民",
                    0,
                    10,
                ]
            )
        for i, title in enumerate(BACKGROUND):
            writer.writerow([100 + i, f"w{i}", title, "2019/8/3 10:00:00", title, 0, 0])
    out = io.StringIO()
    call_command("routing", "hot", "--csv", str(path), "--top", "3", "--json", stdout=out)
    top = json.loads(next(line for line in out.getvalue().splitlines() if line.startswith("{")))
    assert top["rank"] == 1 and top["count"] == 8 and top["likes"] == 80
    assert top["place"].startswith("A5区")
    assert "魅力之城小区夜宵摊油烟扰民" in top["examples"][0]


def test_the_hot_page_and_its_export(county, people, client):
    for day in range(1, 9):
        register(
            county,
            people.clerk,
            bj(2026, 11, day, 9),
            title="丽发新城搅拌站噪音扰民",
            content=f"丽发新城小区附近搅拌站夜间施工噪音扰民，第{day}次反映",
        )
    for i, title in enumerate(BACKGROUND[:5]):
        register(
            county, people.clerk, bj(2026, 11, 10, 9), title=title, content=f"{title}，请处理{i}"
        )
    assert client.login(username=people.clerk.username, password=PASSWORD)
    page = client.get(reverse("routing:hot") + "?month=2026-11")
    assert page.status_code == 200
    top = page.context["page"].clusters[0]
    assert top.count == 8 and top.place == "A1区" and top.candidate
    assert "每月一题候选" in page.content.decode()
    export = client.get(reverse("routing:hot_export") + "?month=2026-11")
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet.cell(row=3, column=4).value == 8
    # outsiders see nothing of this office's matters
    client.logout()
    assert client.login(username=people.outsider.username, password=PASSWORD)
    assert client.get(reverse("routing:hot") + "?month=2026-11").context["page"].clusters == []


def test_the_worker_keeps_the_whole_office_page_computed(county, people, client, monkeypatch):
    from xinfang.routing import selectors
    from xinfang.worker.management.commands import worker

    for day in range(1, 5):
        register(
            county,
            people.clerk,
            bj(2026, 11, day, 9),
            title="丽发新城搅拌站噪音扰民",
            content=f"丽发新城小区附近搅拌站夜间施工噪音扰民，第{day}次反映",
        )
    monkeypatch.setattr(selectors, "current_month", lambda now=None: "2026-11")
    call_command("worker", "--once")  # the first pass computes the page
    computed = []
    real = selectors._hot_page
    monkeypatch.setattr(selectors, "_hot_page", lambda *a: computed.append(a) or real(*a))
    assert client.login(username=people.supervisor.username, password=PASSWORD)
    page = client.get(reverse("routing:hot") + "?month=2026-11").context["page"]
    assert page.clusters[0].count == 4 and computed == []  # served from the worker's cache
    client.logout()
    assert client.login(
        username=people.clerk.username, password=PASSWORD
    )  # another scope: computed now
    assert (
        client.get(reverse("routing:hot") + "?month=2026-11").context["page"].clusters[0].count == 4
    )
    assert len(computed) == 1
    assert 0 < worker.HOT_SECONDS <= 600  # recomputed within the cached page's ten-minute life
