"""Reads about units: the subtree below a unit, cached per process and kept current in every process."""

from __future__ import annotations

from django.db.models import Subquery

from xinfang.orgs import rulecache
from xinfang.orgs.models import Unit


@rulecache.versioned(rulecache.UNITS, maxsize=4096)
def _subtree(unit_id: int) -> tuple[int, ...]:
    # By id, not by a path held in memory: a Unit loaded before a move still finds its subtree.
    root = Unit.objects.filter(pk=unit_id).values("path")[:1]
    return tuple(Unit.objects.filter(path__startswith=Subquery(root)).values_list("id", flat=True))


def subtree_ids(unit: Unit | int | None) -> list[int]:
    """The unit and every unit below it. After the first call in a process this costs no query
    until the unit tree changes (in this process or any other: see `rulecache`)."""
    unit_id = unit if isinstance(unit, int) else getattr(unit, "pk", None)
    if not unit_id:
        return []
    return list(_subtree(unit_id))


def units_changed(**kwargs) -> None:
    """A unit was added, changed or deleted (post_save / post_delete): every subtree may change."""
    rulecache.bump(rulecache.UNITS)


def clear_cache() -> None:
    """Drop this process's copy (tests start from a clean slate)."""
    _subtree.cache_clear()
