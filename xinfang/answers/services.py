"""答复知识库的写入: the office's replies enter as they are given; the starter entries load from
a CSV file; a backfill adds the replies given before the app existed."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from xinfang.answers import checks
from xinfang.answers.models import ReplyEntry, Source
from xinfang.cases.clocks import LOCAL
from xinfang.cases.events import EventKind
from xinfang.cases.models import CONFIDENTIAL_KINDS, Case, CaseEvent
from xinfang.lib.masking import mask_personal_data

MESSAGE_CHARS = 2000  # a knowledge entry keeps the start of a long message
STARTER_COLUMNS = ("id", "title", "content", "reply")
# 检举控告, 举报 and 投诉 name people and units: their texts never enter a shared knowledge base.
EXCLUDED_KINDS = CONFIDENTIAL_KINDS


class StarterFileError(Exception):
    """The starter file is missing or unreadable; the message says why, in Chinese."""


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int
    skipped: int  # rows without a title or a reply


def masked(text: str, *names: str) -> str:
    """`text` with ID and phone numbers masked and each given name or address replaced by 某某."""
    out = mask_personal_data(text)
    for name in names:
        if name and len(name.strip()) >= 2:
            out = out.replace(name.strip(), "某某")
    return out


def _check_fields(reply: str, title: str, message: str) -> dict:
    report = checks.check_draft(reply, title=title, content=message)
    return {
        "relevant": report.relevance.passed,
        "outcome_time": report.outcome_time.passed,
        "policy": report.policy.passed,
        "similarity": round(report.similarity, 4),
    }


# ---------------------------------------------------------------- the office's own replies


def eligible(case: Case) -> bool:
    """A matter whose reply may be shown to other units (no accusation, no accused unit)."""
    return case.kind not in EXCLUDED_KINDS and not case.accused_unit_id


def entry_for_reply(*, case: Case, event: CaseEvent) -> ReplyEntry | None:
    """答复入库: the reply `event` of `case` as the matter's knowledge entry (one per matter: a
    later reply replaces it). None for a matter whose texts stay with it."""
    if not eligible(case):
        return None
    details = event.details or {}
    names = (case.petitioner_name, case.accused_person, case.petitioner_address)
    title = masked(case.title, *names)
    message = masked(case.content, *names)[:MESSAGE_CHARS]
    reply = masked(str(details.get("text", "")), *names)
    unit = event.unit or case.lead_unit
    on_time = details.get("on_time")
    fields = {
        "source": Source.OFFICE,
        "title": title[:200],
        "message": message,
        "reply": reply,
        "unit": unit,
        "unit_name": unit.name if unit else "",
        "outcome": str(details.get("outcome", case.outcome or "")),
        "asked_at": case.registered_at,
        "replied_at": event.at,
        "on_time": on_time if isinstance(on_time, bool) else None,
        **_check_fields(reply, title, message),
    }
    entry, _ = ReplyEntry.objects.update_or_create(case=case, defaults=fields)
    return entry


def backfill(*, batch: int = 2000, since: dt.datetime | None = None) -> int:
    """答复补录: knowledge entries for the matters replied before this app existed (or `since`),
    walking the replied matters by the `case_replied` index, in batches. Idempotent."""
    done = 0
    cases = Case.objects.filter(replied_at__isnull=False).select_related("lead_unit")
    if since is not None:
        cases = cases.filter(replied_at__gte=since)
    last: tuple[dt.datetime, int] | None = None
    while True:
        page = cases.order_by("replied_at", "id")
        if last is not None:
            page = page.filter(replied_at__gte=last[0]).exclude(replied_at=last[0], id__lte=last[1])
        rows = list(page[:batch])
        if not rows:
            return done
        last = (rows[-1].replied_at, rows[-1].pk)  # type: ignore[assignment]
        events = {
            e.case_id: e
            for e in CaseEvent.objects.filter(
                case__in=[c for c in rows if eligible(c)], kind=EventKind.REPLIED
            ).select_related("unit")
        }
        with transaction.atomic():
            for case in rows:
                event = events.get(case.pk)
                if event is not None and entry_for_reply(case=case, event=event):
                    done += 1


# ---------------------------------------------------------------- the starter knowledge base


def _parse_time(raw: str) -> dt.datetime | None:
    raw = (raw or "").strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(raw, fmt).replace(tzinfo=LOCAL)
        except ValueError:
            continue
    return None


def read_starter(path: Path | None) -> Iterator[dict]:
    """The rows of a replies CSV (id,user,title,time,content,reply,reply_time), or a
    StarterFileError saying in Chinese what is wrong with the file."""
    if path is None:
        raise StarterFileError("未配置参考答复文件：请设置 XINFANG_REPLIES_CSV")
    if not path.is_file():
        raise StarterFileError(f"参考答复文件 {path} 不存在，请检查 XINFANG_REPLIES_CSV")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in STARTER_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise StarterFileError(
                    f"参考答复文件 {path.name} 缺少列：{'、'.join(missing)}"
                    "（应有 id,user,title,time,content,reply,reply_time）"
                )
            yield from reader
    except UnicodeDecodeError as exc:
        raise StarterFileError(f"参考答复文件 {path.name} 不是 UTF-8 编码的 CSV") from exc
    except csv.Error as exc:
        raise StarterFileError(f"参考答复文件 {path.name} 格式有误：{exc}") from exc


def _starter_fields(row: dict) -> dict | None:
    title, reply = (row.get("title") or "").strip(), (row.get("reply") or "").strip()
    if not title or not reply:
        return None
    title, reply = masked(title)[:200], masked(reply)
    message = masked((row.get("content") or "").strip())[:MESSAGE_CHARS]
    return {
        "title": title,
        "message": message,
        "reply": reply,
        "asked_at": _parse_time(row.get("time", "")),
        "replied_at": _parse_time(row.get("reply_time", "")),
    }


_COMPARED = ("title", "message", "reply", "asked_at", "replied_at")


def starter_load(path: Path | None, *, rows: Iterable[dict] | None = None) -> LoadResult:
    """导入参考答复: the starter entries of `path`, keyed by the file's id; a second load of the
    same file changes nothing, a changed row is updated in place. All or nothing."""
    created = updated = unchanged = skipped = 0
    source_rows = list(rows if rows is not None else read_starter(path))
    existing = {e.external_id: e for e in ReplyEntry.objects.filter(source=Source.STARTER)}
    new: list[ReplyEntry] = []
    seen: set[str] = set()
    with transaction.atomic():
        for row in source_rows:
            key = str(row.get("id") or "").strip()
            fields = _starter_fields(row)
            if not key or fields is None or key in seen:
                skipped += 1
                continue
            seen.add(key)
            entry = existing.get(key)
            if entry is not None and all(getattr(entry, f) == fields[f] for f in _COMPARED):
                unchanged += 1
                continue
            # the checks cost a millisecond or so a reply: only for new and changed rows
            fields.update(_check_fields(fields["reply"], fields["title"], fields["message"]))
            if entry is None:
                new.append(ReplyEntry(source=Source.STARTER, external_id=key, **fields))
                created += 1
            else:
                for name, value in fields.items():
                    setattr(entry, name, value)
                entry.save()
                updated += 1
        ReplyEntry.objects.bulk_create(new, batch_size=500)
    return LoadResult(created, updated, unchanged, skipped)
