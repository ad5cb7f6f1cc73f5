"""登记: registering a matter, a repeat submission, and the units a report accuses.

Registration starts a matter's timeline (no transition leads into 已登记); it shares the
writer's plumbing (`writer.lock_case`, `record_event`, the clocks) so its rows and events are those of
every other change. Reached as `services.case_register` and friends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from xinfang.cases import access, search
from xinfang.cases.events import EventKind
from xinfang.cases.models import (
    ANONYMOUS_KINDS,
    CLOSED_STATES,
    CONFIDENTIAL_KINDS,
    HOTLINE_KINDS,
    Attachment,
    Case,
    CaseCounter,
    Channel,
    Kind,
    RepeatSubmission,
    Representative,
    State,
    Urgency,
)
from xinfang.cases.reactions import PLAIN, ReactionContext
from xinfang.cases.transitions import Change, TransitionForbidden, require
from xinfang.cases.validators import clean_id_number, clean_phone, clean_upload
from xinfang.cases.writer import aware_now, enter_state, lock_case, record_event, save_case
from xinfang.lib import bounds
from xinfang.orgs.models import Category, Place, Unit, User

MAX_REPRESENTATIVES = 5
# Enum .values builds a new list on every call; imports check every row.
_KINDS, _CHANNELS, _URGENCIES = (
    frozenset(Kind.values),
    frozenset(Channel.values),
    frozenset(Urgency.values),
)
CLOCK_SKEW = bounds.REGISTRATION_SKEW


@dataclass
class Petitioner:
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    anonymous: bool = False


@dataclass
class RegisterResult:
    case: Case
    created: bool
    notice: str = ""  # for a repeat submission: which notice answers it
    errors: dict = field(default_factory=dict)


def registration_details(channel: str, kind: str) -> dict[str, str]:
    """The details of a matter's 已登记 event."""
    return {"channel": channel, "case_kind": kind}


def registration_change(
    *,
    channel: str,
    kind: str,
    title: str,
    content: str,
    petitioner: Petitioner,
    at: dt.datetime,
    group_size: int = 1,
    urgency: str = "",
    accused: bool = False,
    accused_person: str = "",
    no_accused_unit: bool = False,
) -> Change:
    """登记的变更: the fields a new matter starts with and its event's details, as data.

    The one source of both roads, `case_register` and the ledger import (`bulk.Preparer`), so an
    imported matter is the registered one. `accused`: an accused unit is named. Places, units
    and the number are the caller's; the state and its clock follow from `enter_state`.
    """
    return Change(
        fields={
            "channel": channel,
            "kind": kind,
            "title": title.strip()[:120],
            "content": content.strip(),
            "anonymous": petitioner.anonymous,
            "petitioner_name": "" if petitioner.anonymous else petitioner.name.strip(),
            "petitioner_id_number": petitioner.id_number,
            "petitioner_phone": petitioner.phone,
            "petitioner_address": petitioner.address.strip(),
            "group_size": group_size,
            "urgency": urgency,
            "accused_person": accused_person.strip(),
            # a report without its accused unit waits for a clerk (被反映单位待确定)
            "accused_pending": kind in CONFIDENTIAL_KINDS and not accused and not no_accused_unit,
            "registered_at": at,
        },
        details=registration_details(channel, kind),
    )


def _validate_registration(
    *,
    kind,
    channel,
    title,
    content,
    petitioner: Petitioner,
    group_size,
    representatives,
    accused_unit,
    accused_person,
    at,
    attachments,
    urgency="",
    now=None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if kind not in _KINDS:
        add("kind", "请选择事项类型")
    if channel not in _CHANNELS:
        add("channel", "请选择来源渠道")
    if not (title or "").strip():
        add("title", "请填写标题")
    if not (content or "").strip():
        add("content", "请填写诉求内容")
    elif len(content) > 20000:
        add("content", "诉求内容不能超过20000字")
    if problem := bounds.registration_time_error(at, now or timezone.now()):
        add("registered_at", problem)
    if petitioner.anonymous:
        if kind not in ANONYMOUS_KINDS:
            add("anonymous", "只有建议意见、检举控告类事项可以匿名")
    else:
        if not petitioner.name.strip():
            add("petitioner_name", "请填写信访人姓名（或选择匿名）")
        if not (petitioner.phone or petitioner.address):
            add("petitioner_phone", "请至少填写联系电话或住址之一，以便答复")
    for attr, cleaner in (("id_number", clean_id_number), ("phone", clean_phone)):
        try:
            setattr(petitioner, attr, cleaner(getattr(petitioner, attr)))
        except ValidationError as exc:
            add(f"petitioner_{attr}", exc.messages[0])
    if urgency and (urgency not in _URGENCIES or kind not in HOTLINE_KINDS):
        add("urgency", "只有12345热线诉求可以标记为紧急或水电气停供")
    if not bounds.GROUP_SIZE.holds(group_size):
        add("group_size", bounds.GROUP_SIZE.message)
    if len(representatives) > MAX_REPRESENTATIVES:
        add(
            "representatives",
            f"集体访代表不能超过{MAX_REPRESENTATIVES}人（现有{len(representatives)}人）",
        )
    for i, rep in enumerate(representatives, 1):
        if not rep.get("name", "").strip():
            add("representatives", f"第{i}位代表未填写姓名")
        for attr, cleaner in (("id_number", clean_id_number), ("phone", clean_phone)):
            try:
                rep[attr] = cleaner(rep.get(attr, ""))
            except ValidationError as exc:
                add("representatives", f"第{i}位代表：{exc.messages[0]}")
    if (accused_unit or accused_person) and kind not in CONFIDENTIAL_KINDS:
        add("accused_unit", "只有检举控告、投诉、举报类事项可以填写被反映对象")
    for upload in attachments:
        try:
            clean_upload(upload.name, upload.size, upload)
        except ValidationError as exc:
            add("attachments", exc.messages[0])
    return errors


def case_number(office: Unit, year: int, seq: int) -> str:
    """The readable number of a matter, unique per office and year: XF430102-2026-000123."""
    return f"{office.code}-{year}-{seq:06d}"


def reserve_numbers(office: Unit, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive sequence numbers of `office` in `year`; returns the first.

    Must run inside the registering transaction, so a failed registration gives its number back.
    """
    counter, _ = CaseCounter.objects.select_for_update().get_or_create(office=office, year=year)
    CaseCounter.objects.filter(pk=counter.pk).update(last=F("last") + count)
    return counter.last + 1


@dataclass(frozen=True)
class Registration:
    """登记事项: what a matter is registered with, built once by each entry point (the staff
    page, the JSON API, the portal, Open311, reception, screening) and handed to `case_register`.

    Data only: `case_register` checks it and answers in Chinese. A report (检举控告, 举报, 投诉)
    names its accused units (`accused_unit` and `other_accused_units`), or the clerk states
    that it accuses no unit (`no_accused_unit`); otherwise it waits as 被反映单位待确定
    (`accused_pending`) until a clerk records them. `repeat_of` makes it a repeat submission
    of that matter. `attachments` are uploaded files (objects with `.name` and `.size`).
    """

    office: Unit
    channel: str
    kind: str
    title: str
    content: str
    place: Place
    petitioner: Petitioner
    category: Category | None = None
    group_size: int = 1
    urgency: str = ""
    representatives: Sequence[Mapping[str, str]] = ()
    accused_unit: Unit | None = None
    accused_person: str = ""
    other_accused_units: Sequence[Unit] = ()
    no_accused_unit: bool = False
    attachments: Sequence[Any] = ()
    repeat_of: Case | None = None


def _checked(reg: Registration, at: dt.datetime) -> Registration:
    """The registration with the petitioner's and representatives' ID and phone cleaned, or
    ValidationError with a dict of Chinese messages per field. Copies: the caller's value
    (and the Petitioner it holds) stays as it was given."""
    petitioner = replace(reg.petitioner)
    representatives = [dict(r) for r in reg.representatives]
    errors = _validate_registration(
        kind=reg.kind,
        channel=reg.channel,
        title=reg.title,
        content=reg.content,
        petitioner=petitioner,
        group_size=reg.group_size,
        urgency=reg.urgency,
        representatives=representatives,
        accused_unit=reg.accused_unit,
        accused_person=reg.accused_person,
        at=at,
        attachments=list(reg.attachments),
    )
    if errors:
        raise ValidationError(errors)
    return replace(reg, petitioner=petitioner, representatives=tuple(representatives))


def case_register(
    reg: Registration,
    *,
    by: User | None,
    at: dt.datetime | None = None,
    context: ReactionContext = PLAIN,
) -> RegisterResult:
    """登记: register a matter, or link a repeat submission to the matter it repeats.

    `reg.repeat_of` must be a matter `by` may see. `context` tells the reactions what the
    caller does itself (the portal queues its own receipt). Raises ValidationError with a dict
    of Chinese messages per field; nothing is saved then.
    """
    at = aware_now(at)
    reg = _checked(reg, at)
    if reg.repeat_of is not None:
        if by is not None and not access.can_view(by, reg.repeat_of):
            raise ValidationError({"repeat_of": access.NOT_FOUND})  # neutral: no write, no state
        return _link_repeat(reg.repeat_of, by=by, at=at, channel=reg.channel, content=reg.content)
    accused_unit = reg.accused_unit
    others = [u for u in reg.other_accused_units if accused_unit is None or u.pk != accused_unit.pk]
    if others and accused_unit is None:
        accused_unit, others = others[0], others[1:]
    with transaction.atomic():
        year = timezone.localtime(at).year
        seq = reserve_numbers(reg.office, year)
        number = case_number(reg.office, year, seq)
        change = registration_change(
            channel=reg.channel,
            kind=reg.kind,
            title=reg.title,
            content=reg.content,
            petitioner=reg.petitioner,
            at=at,
            group_size=reg.group_size,
            urgency=reg.urgency,
            accused=accused_unit is not None,
            accused_person=reg.accused_person,
            no_accused_unit=reg.no_accused_unit,
        )
        case = Case(
            office=reg.office,
            year=year,
            seq=seq,
            number=number,
            place=reg.place,
            category=reg.category,
            accused_unit=accused_unit,
            created_by=by,
            **change.fields,
        )
        enter_state(case, State.REGISTERED, at)
        case.save()
        if others:
            case.other_accused_units.set(others)
        Representative.objects.bulk_create(
            Representative(
                case=case,
                name=r["name"].strip(),
                id_number=r.get("id_number", ""),
                phone=r.get("phone", ""),
            )
            for r in reg.representatives
        )
        for upload in reg.attachments:
            Attachment.objects.create(
                case=case, file=upload, name=upload.name[:200], size=upload.size
            )
        record_event(case, EventKind.REGISTERED, at, by, context=context, **change.details)

        search.index_case(case)
    return RegisterResult(case=case, created=True)


def case_record_accused(
    *,
    case: Case,
    by: User | None,
    units: list[Unit],
    person: str = "",
    no_unit: bool = False,
    reason: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Case:
    """记录/更正被反映单位: record or correct the units (and person) a report accuses.

    Needed before a pending report (被反映单位待确定) can be routed. A correction of units
    already recorded needs a reason. Either units or `no_unit` (it accuses no unit): a report
    is never left without a decision. Recorded as a non-public event with old and new.
    """
    at = aware_now(at)
    units = list(dict.fromkeys(units))
    if not units and not no_unit:
        raise ValidationError({"units": "请选择被反映单位，或注明不涉及具体单位"})
    if units and no_unit:
        raise ValidationError({"units": "已选择被反映单位，不能同时注明不涉及具体单位"})
    with transaction.atomic():
        case = lock_case(case, expected_version)
        if not access.may_record_accused(by, case):
            raise TransitionForbidden("只有登记机构可以记录或更正检举控告类事项的被反映单位")
        before = [u.name for u in access.accused_units(case)]
        if not case.accused_pending:
            require(reason.strip(), "reason", "更正被反映单位须说明理由")
        old_person = case.accused_person
        case.accused_unit = units[0] if units else None
        case.accused_person = person.strip()[:60]
        case.accused_pending = False
        save_case(case)
        case.other_accused_units.set(units[1:])
        handling = access.handled_by_accused(case, case)
        record_event(
            case,
            EventKind.ACCUSED_RECORDED,
            at,
            by,
            units=[u.name for u in units],
            before=before,
            person=case.accused_person,
            person_before=old_person,
            reason=reason.strip(),
            accused_handles=handling,
        )
    return case


def _link_repeat(original: Case, *, by, at, channel, content) -> RegisterResult:
    """A new submission about a matter open or final: record it on that matter, answer with a notice."""
    with transaction.atomic():
        case = lock_case(original, None)
        notice = "not_accepted_again" if case.state in CLOSED_STATES else "in_progress"
        RepeatSubmission.objects.create(
            case=case, channel=channel, content=content, received_at=at, notice=notice
        )
        case.repeat_count = F("repeat_count") + 1
        save_case(case)
        case.refresh_from_db(fields=["repeat_count"])
        record_event(case, EventKind.REPEAT_RECEIVED, at, by, channel=channel, notice=notice)
    return RegisterResult(case=case, created=False, notice=notice)
