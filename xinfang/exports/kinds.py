"""What can be exported as a job (导出任务), declared by the app that owns the rows.

Each app declares its own `ExportKind` (the ledger's 台帐, the reports' 统计指标明细) and lists it
in `settings.EXPORT_KINDS`; exports reads that list with `import_string`, so it imports none of
those apps and they may import exports to start a job.

A kind's `source(user, filters)` rebuilds its rows from the stored filters with the owner's
access at the time it runs, exactly as the page's direct export does. It returns (count, rows):
`count()` is the number of rows, `rows()` a generator over `QuerySet.iterator(chunk_size=...)`.
Bad filters raise ExportError with a Chinese message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from xinfang.orgs.models import User

CHUNK = 2000  # rows fetched per query by a kind's rows()


class ExportError(ValueError):
    """A request that cannot be exported; the message is for the user (Chinese)."""


Source = tuple[Callable[[], int], Callable[[], Iterator[list]]]


@dataclass(frozen=True)
class ExportKind:
    """One kind of export job (导出内容): its name, the sheet it writes and where its rows come from."""

    name: str
    label: str
    sheet: str
    columns: list[tuple[str, int]]
    personal: bool  # holds petitioners' names: every download is recorded (ExportDownload)
    source: Callable[[User, dict], Source]
    params: tuple[str, ...]  # the query parameters kept as the job's filters


@cache
def declared() -> dict[str, ExportKind]:
    """The kinds of `settings.EXPORT_KINDS` by name, imported once per process."""
    found = (import_string(path) for path in settings.EXPORT_KINDS)
    return {kind.name: kind for kind in found}


def find(name: str) -> ExportKind | None:
    return declared().get(name)


def label_of(name: str) -> str:
    """The kind's Chinese label; its name when the kind is no longer declared (an old job)."""
    kind = find(name)
    return kind.label if kind else name


def params_of(kind: ExportKind, query: Mapping[str, Any]) -> dict[str, str]:
    """The job's filters: the kind's parameters present in a request's query, as strings."""
    return {
        name: str(query.get(name))[:200]
        for name in kind.params
        if query.get(name) not in (None, "")
    }


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs) -> None:
    # a test that overrides the list must see its own kinds, not the cached ones
    if setting == "EXPORT_KINDS":
        declared.cache_clear()
