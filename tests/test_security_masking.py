"""ID numbers and mobiles typed into a ledger's free text are masked (issue 12: "the screening
ledger shows ID numbers and phones typed into an issue's text in full").

The screening ledger (矛盾纠纷排查台帐) registers issues, never people: numbers typed into its
issue, place or plan are masked when saved (page, import) and again when shown or exported, so
rows saved before are masked too. The petition ledger export masks numbers typed into a title
for everyone (the lists' rule: ID numbers and phones are always masked in lists).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from tests.factories import PASSWORD, VALID_ID, bj, register
from xinfang.backlog import screening
from xinfang.backlog.models import ScreeningEntry
from xinfang.cases import access
from xinfang.ledger import exporting
from xinfang.lib.masking import mask_personal_data

ID = "110105194912310021"
TEXT = f"张某（身份证{ID}，手机13812345678）反映小区电梯问题"
MASKED = "张某（身份证11010519******0021，手机138****5678）反映小区电梯问题"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TEXT, MASKED),
        ("电话 138-1234-5678，另 +86 139 1234 5678", "电话 138****5678，另 139****5678"),
        ("全角１３８１２３４５６７８", "全角138****5678"),
        ("证号11010519491231002x。", "证号11010519******002X。"),
        ("证号110105 1949 1231 0021", "证号11010519******0021"),
        ("旧证430102850101123", "旧证43010285***1123"),
        ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
        ("2026-11-02 欠薪 20000 元，编号 XF430102-2026-000001", None),  # unchanged
        ("", ""),
        (None, ""),
    ],
)
def test_mask_personal_data(text, expected):
    masked = mask_personal_data(text)
    assert masked == (text if expected is None else expected)
    assert mask_personal_data(masked) == masked  # masking twice changes nothing


@pytest.fixture
def round_(county, people):
    return screening.round_create(
        by=people.clerk,
        name="十一月排查",
        period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 27),
    )


def _entry(round_, county, people, issue=TEXT):
    return screening.entry_create(
        round_=round_,
        by=people.clerk,
        data=screening.EntryData(
            issue=issue,
            place=county.place,
            location="联系人13912345678家门口",
            plan=f"约谈{ID}本人",
            deadline=dt.date(2026, 12, 20),
        ),
    )


def test_a_screening_entry_is_saved_masked(round_, county, people):
    entry = _entry(round_, county, people)
    entry.refresh_from_db()
    assert entry.issue == MASKED
    assert entry.location == "联系人139****5678家门口"
    assert entry.plan == "约谈11010519******0021本人"


def test_the_screening_page_and_its_xlsx_mask_rows_saved_before(client, round_, county, people):
    entry = _entry(round_, county, people, issue="电梯问题")
    ScreeningEntry.objects.filter(pk=entry.pk).update(issue=TEXT, plan=f"约谈{ID}")  # an old row
    client.login(username="clerk", password=PASSWORD)
    page = client.get(f"/backlog/screening/{round_.pk}/").content.decode()
    assert MASKED in page and ID not in page and "13812345678" not in page
    response = client.get(f"/backlog/screening/{round_.pk}/", {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    texts = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert MASKED in texts and ID not in texts and "13812345678" not in texts


def test_the_screening_import_masks_and_still_matches_its_own_rows(round_, county, people):
    entry = _entry(round_, county, people)
    wb = Workbook()
    ws = wb.active
    ws.append(screening.TEMPLATE_COLUMNS)
    row = dict.fromkeys(screening.TEMPLATE_COLUMNS, "")
    row.update({"矛盾纠纷问题": TEXT, "属地": county.place.name, "状态": "化解中"})
    ws.append([row[c] for c in screening.TEMPLATE_COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    screening.import_entries(round_=round_, by=people.clerk, source=out)
    assert list(round_.entries.values_list("pk", "issue")) == [(entry.pk, MASKED)]  # updated


def test_the_petition_ledger_export_masks_numbers_typed_into_a_title(county, people):
    register(county, people.clerk, bj(2026, 3, 2, 9), title=f"请回电13812345678，证号{VALID_ID}")
    out = io.BytesIO()
    exporting.export_cases(access.visible_cases(people.clerk), out, user=people.clerk)
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    titles = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == [f"请回电138****5678，证号{mask_personal_data(VALID_ID)}"]
    assert VALID_ID not in titles[0]
