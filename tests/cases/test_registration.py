"""Registration (登记) refuses bad input field by field, in Chinese, and then saves nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import VALID_ID, bj, petitioner, register
from xinfang.cases.models import (
    Attachment,
    Case,
    CaseCounter,
    CaseEvent,
    Kind,
    Representative,
    State,
)

AT = bj(2026, 9, 16, 10)
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.XINFANG_MAX_ATTACHMENT_BYTES = 1024 * 1024


def _reps(n: int) -> list[dict]:
    return [{"name": f"代表{i}", "phone": "", "id_number": ""} for i in range(1, n + 1)]


def _nothing_saved() -> tuple:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Attachment.objects.count(),
        Representative.objects.count(),
        list(CaseCounter.objects.values_list("last", flat=True)),
    )


def _refused(county, field: str, **kw) -> list[str]:
    before = _nothing_saved()
    with pytest.raises(ValidationError) as exc:
        register(county, None, kw.pop("at", AT), **kw)
    assert _nothing_saved() == before
    messages = exc.value.message_dict
    assert field in messages, messages
    assert all(CHINESE.search(m) for m in messages[field])
    return messages[field]


@pytest.mark.parametrize(
    ("field", "kw", "fragment"),
    [
        (
            "petitioner_id_number",
            {"petitioner": petitioner(id_number="110105194912310021")},
            "校验位",
        ),
        (
            "petitioner_id_number",
            {"petitioner": petitioner(id_number="11010519491231")},
            "格式不正确",
        ),
        (
            "petitioner_id_number",
            {"petitioner": petitioner(id_number="ABCDEFGHIJKLMNOPQR")},
            "格式不正确",
        ),
        ("petitioner_phone", {"petitioner": petitioner(phone="12345")}, "电话"),
        ("petitioner_phone", {"petitioner": petitioner(phone="+1 202 555 0100")}, "中国大陆"),
        ("petitioner_phone", {"petitioner": petitioner(phone="", address="")}, "联系电话或住址"),
        ("petitioner_name", {"petitioner": petitioner(name="  ")}, "姓名"),
        ("anonymous", {"kind": Kind.APPEAL, "petitioner": petitioner(anonymous=True)}, "匿名"),
        ("representatives", {"group_size": 8, "representatives": _reps(6)}, "不能超过5人"),
        ("representatives", {"group_size": 3, "representatives": [{"name": ""}]}, "未填写姓名"),
        (
            "representatives",
            {"representatives": [{"name": "李四", "id_number": "123"}]},
            "第1位代表",
        ),
        ("group_size", {"group_size": 0}, "应在1至5000人之间"),
        ("title", {"title": "   "}, "标题"),
        ("content", {"content": ""}, "诉求内容"),
        ("content", {"content": "长" * 20001}, "20000"),
        ("kind", {"kind": "complaint"}, "事项类型"),
        ("channel", {"channel": "pigeon"}, "来源渠道"),
        ("accused_unit", {"kind": Kind.APPEAL, "accused_person": "某局长"}, "被反映对象"),
    ],
)
def test_bad_input_is_refused_by_field(county, field, kw, fragment):
    messages = _refused(county, field, **kw)
    assert any(fragment in m for m in messages), messages


def test_a_future_registration_time_is_refused(county):
    _refused(county, "registered_at", at=timezone.now() + dt.timedelta(days=1))


def test_a_registration_a_minute_ahead_is_tolerated_as_clock_skew(county):
    case = register(county, None, timezone.now() + dt.timedelta(minutes=1))
    assert case.state == State.REGISTERED


@pytest.mark.parametrize(
    ("name", "size", "fragment"),
    [
        ("virus.exe", 10, "类型不允许"),
        ("no-extension", 10, "类型不允许"),
        ("scan.PDF.js", 10, "类型不允许"),
        ("scan.pdf", 1024 * 1024 + 1, "太大"),
    ],
)
def test_attachments_of_the_wrong_type_or_too_large(county, name, size, fragment):
    upload = SimpleUploadedFile(name, b"x" * size)
    messages = _refused(county, "attachments", attachments=[upload])
    assert any(fragment in m and name in m for m in messages), messages


def test_every_problem_is_reported_at_once(county):
    before = _nothing_saved()
    with pytest.raises(ValidationError) as exc:
        register(
            county,
            None,
            AT,
            title="",
            petitioner=petitioner(name="", phone="1", id_number="1"),
            representatives=_reps(6),
            attachments=[SimpleUploadedFile("a.exe", b"x")],
        )
    assert set(exc.value.message_dict) >= {
        "title",
        "petitioner_name",
        "petitioner_phone",
        "petitioner_id_number",
        "representatives",
        "attachments",
    }
    assert _nothing_saved() == before


def test_no_case_number_is_used_up_by_a_refused_registration(county):
    _refused(county, "petitioner_phone", petitioner=petitioner(phone="12345"))
    first = register(county, None, AT)
    _refused(county, "petitioner_id_number", petitioner=petitioner(id_number="110105194912310021"))
    second = register(county, None, AT)
    assert (first.seq, second.seq) == (1, 2)
    assert first.number == "XF430102-2026-000001"
    assert CaseCounter.objects.get(office=county.office, year=2026).last == 2


def test_a_failure_after_numbering_rolls_the_number_back(county, monkeypatch):
    from xinfang.cases import search

    def broken(case):
        raise RuntimeError("index down")

    monkeypatch.setattr(search, "index_case", broken)
    before = _nothing_saved()
    with pytest.raises(RuntimeError):
        register(county, None, AT)
    assert _nothing_saved() == before
    monkeypatch.undo()
    assert register(county, None, AT).seq == 1


# ---------------------------------------------------------------- what is accepted


def test_valid_input_is_cleaned_and_saved_with_its_clock(county):
    case = register(
        county,
        None,
        AT,
        petitioner=petitioner(id_number=VALID_ID.lower(), phone="+86 138-1234-5678"),
        group_size=6,
        representatives=_reps(5),
        attachments=[SimpleUploadedFile("证据.pdf", b"%PDF-1.4 x", content_type="application/pdf")],
    )
    assert case.petitioner_id_number == VALID_ID
    assert case.petitioner_phone == "13812345678"
    assert case.representatives.count() == 5
    attachment = case.attachments.get()
    assert (attachment.name, attachment.size) == ("证据.pdf", 10)
    assert case.clock == "route" and case.due_at == bj(2026, 10, 9)
    event = CaseEvent.objects.get(case=case)
    assert event.kind == "case.registered" and event.details["case_kind"] == Kind.APPEAL


@pytest.mark.parametrize("kind", [Kind.SUGGESTION, Kind.ACCUSATION])
def test_suggestions_and_reports_may_be_anonymous(county, kind):
    case = register(county, None, AT, kind=kind, petitioner=petitioner(anonymous=True, name="张三"))
    assert case.anonymous and case.petitioner_name == ""


def test_numbers_restart_each_year(county):
    late = register(county, None, bj(2025, 12, 31, 23, 59))
    early = register(county, None, bj(2026, 1, 1, 0, 1))
    assert (late.year, late.seq, early.year, early.seq) == (2025, 1, 2026, 1)
    # 2026-01-01 00:01 in Beijing is still 2025 in UTC: the Beijing year counts.
    assert early.number.endswith("-2026-000001")


def test_an_impossible_birth_date_is_named_as_such_not_as_a_check_digit():
    import pytest
    from django.core.exceptions import ValidationError

    from xinfang.cases.validators import clean_id_number

    with pytest.raises(ValidationError) as caught:
        clean_id_number("11010519491331002X")
    assert "出生日期" in caught.value.messages[0]


def test_a_12345_emergency_runs_two_hours_from_dispatch_and_cannot_be_extended(county, people):
    import pytest

    from tests.factories import bj, register
    from xinfang.cases import services
    from xinfang.cases.models import Kind
    from xinfang.cases.workflow import TransitionNotAllowed

    case = register(
        county, people.clerk, bj(2026, 11, 5, 22), kind=Kind.HOTLINE_HELP, urgency="emergency"
    )
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 5, 23))
    assert case.clock == "hotline_emergency" and case.due_at == bj(2026, 11, 6, 1)
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 5, 23, 30))
    with pytest.raises(TransitionNotAllowed, match="不能延期"):
        services.case_extend(case=case, by=people.head, days=3, reason="需现场核查")


def test_a_12345_complaint_extension_adds_working_days(county, people):
    from tests.factories import bj, register
    from xinfang.cases import services
    from xinfang.cases.models import Kind

    case = register(county, people.clerk, bj(2026, 11, 2, 9), kind=Kind.HOTLINE_COMPLAINT)
    case = services.case_route(case=case, by=people.clerk, unit=county.hr, at=bj(2026, 11, 2, 10))
    case = services.case_accept(case=case, by=people.officer, at=bj(2026, 11, 2, 11))
    # 15 working days from Mon 2 Nov end on Mon 23 Nov; 5 more working days end on Mon 30 Nov.
    assert case.due_at == bj(2026, 11, 24)
    case = services.case_extend(case=case, by=people.head, days=5, reason="涉及多个部门")
    assert case.due_at == bj(2026, 12, 1)


def test_urgency_is_only_for_12345(county, people):
    import pytest
    from django.core.exceptions import ValidationError

    from tests.factories import bj, register

    with pytest.raises(ValidationError) as caught:
        register(county, people.clerk, bj(2026, 11, 5, 9), urgency="emergency")
    assert "urgency" in caught.value.message_dict
