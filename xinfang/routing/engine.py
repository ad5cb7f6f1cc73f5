"""The routing model as the pages see it: loaded once per file version, mapped onto the office.

The classifier (`classifier.py`) knows only first-level category names. Here a label becomes the
office's top-level `Category` of that name, then a subcategory and the unit in charge in the
matter's place: from the routes of the most similar matters the office confirmed there
(`history.py`), or, with too few of those, from the dispatch catalogue (派单目录).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Q, QuerySet

from xinfang.cases.models import Case
from xinfang.orgs.models import Category, DispatchRule, Unit
from xinfang.routing import classifier, conf, history

log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[str, tuple[int, classifier.Model]] = {}


def load_model(path: str | Path | None = None) -> classifier.Model | None:
    """The model at `path` (default: the configured one), cached until the file changes.

    None when there is no model file or it cannot be read: the pages then show no suggestions.
    """
    path = Path(path or conf.model_path())
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    with _lock:
        cached = _cache.get(str(path))
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            model = classifier.load(path)
        except Exception:  # a broken or foreign file must not break a case page
            log.exception("无法读取分派模型 %s", path)
            return None
        _cache[str(path)] = (stamp, model)
        return model


def model_version(model: classifier.Model) -> str:
    """A short name of the model file's version (stored with every suggestion)."""
    meta = model.metadata
    return str(meta.get("version") or meta.get("trained_at") or "unknown")[:60]


HISTORY, CATALOGUE = "history", "catalogue"


@dataclass
class Suggestion:
    """One suggested first-level category, mapped onto the office's catalogue."""

    label: str
    confidence: float
    category: Category | None = None  # the office's top-level category of that name
    subcategory: Category | None = None  # chosen under it (by history or the catalogue)
    unit: Unit | None = None
    source: str = CATALOGUE  # HISTORY: from similar confirmed matters; CATALOGUE: 派单目录
    support: int = 0  # how many similar confirmed matters a history pick rests on

    @property
    def basis(self) -> str:
        """依据, as the panel shows it: a count only, never which matters."""
        return f"相似事项 {self.support} 件" if self.source == HISTORY else "派单目录"

    def as_dict(self) -> dict:
        pick = self.subcategory or self.category
        return {
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "category_id": self.category.pk if self.category else None,
            "subcategory_id": pick.pk if pick else None,
            "subcategory": str(pick) if pick else "",
            "unit_id": self.unit.pk if self.unit else None,
            "unit": self.unit.name if self.unit else "",
            "source": self.source,
            "support": self.support,
            "basis": self.basis,
        }


@dataclass
class SuggestionSet:
    model_version: str
    items: list[Suggestion] = field(default_factory=list)

    def as_dicts(self) -> list[dict]:
        return [s.as_dict() for s in self.items]


_place_chain = history.place_chain  # the name older callers use


def catalogue_pick(top: Category, place_id: int | None) -> tuple[Category | None, Unit | None]:
    """The catalogue line for a top-level category in a place: the most specific place wins
    (the place itself, then its ancestors, then a rule for everywhere); among lines equally
    specific, the lowest category code."""
    return _catalogue_pick(top, history.place_chain(place_id))


def _catalogue_pick(top: Category, chain: list[int]) -> tuple[Category | None, Unit | None]:
    return _catalogue_picks([top], chain).get(top.pk, (None, None))


def _catalogue_picks(
    tops: Iterable[Category], chain: list[int]
) -> dict[int, tuple[Category | None, Unit | None]]:
    """`catalogue_pick` for several top-level categories in one query (a suggestion set)."""
    tops = list(tops)
    if not tops:
        return {}
    asked = {t.pk for t in tops}
    rules = DispatchRule.objects.filter(Q(category__in=tops) | Q(category__parent__in=tops))
    best = _best_rules(rules, chain, lambda rule: rule.category_id in asked)
    return {top_id: (rule.category, rule.unit) for top_id, rule in best.items()}


def catalogue_pick_by_label(label: str, place_id: int | None) -> tuple[Category, Unit] | None:
    """`catalogue_pick` of the top-level category named `label`: (the line's category, its unit),
    the category found in the same query (智能派单's hot path); None when no line applies."""
    rules = DispatchRule.objects.filter(
        Q(category__name=label, category__parent__isnull=True)
        | Q(category__parent__name=label, category__parent__parent__isnull=True)
    )
    best = _best_rules(rules, history.place_chain(place_id), lambda r: r.category.parent_id is None)
    if not best:
        return None
    rule = next(iter(best.values()))  # one top-level category has that name
    return rule.category, rule.unit


def _best_rules(
    rules: QuerySet[DispatchRule], chain: list[int], is_top: Callable[[DispatchRule], bool]
) -> dict[int, DispatchRule]:
    """The catalogue line that wins for each top-level category among `rules`: the most specific
    place (the place itself, then its ancestors, then a rule for everywhere); among lines equally
    specific, the lowest category code. `is_top`: the rule's own category is the top one."""

    def rank(rule: DispatchRule) -> tuple[int, str]:
        if rule.place_id is None:
            return (len(chain) + 1, rule.category.code)
        return (
            (chain.index(rule.place_id), rule.category.code)
            if rule.place_id in chain
            else (10**6, rule.category.code)
        )

    best: dict[int, DispatchRule] = {}
    for rule in rules.select_related("category__parent", "unit"):
        if not rule_applies(rule, chain):
            continue
        # the category asked for itself, or the first level above the rule's line
        top_id = rule.category_id if is_top(rule) else rule.category.parent_id
        if top_id is None:  # not possible by the filters; says so to the type checker
            continue
        if top_id not in best or rank(rule) < rank(best[top_id]):
            best[top_id] = rule
    return best


def rule_applies(rule: DispatchRule, chain: list[int]) -> bool:
    return rule.place_id is None or rule.place_id in chain


def suggest(
    *,
    title: str,
    content: str,
    place_id: int | None,
    k: int = 3,
    model: classifier.Model | None = None,
    cases: QuerySet[Case] | None = None,
) -> SuggestionSet | None:
    """Top-k categories with confidence and the subcategory and unit each maps to (from similar
    confirmed matters, else the catalogue); None without a model.

    `cases` limits the precedents (e.g. to `access.visible_cases(user)`); default: every matter.
    """
    model = model or load_model()
    if model is None or not (title or content).strip():
        return None
    top = model.predict_top(title or "", content or "", k)
    by_name = {
        c.name: c
        for c in Category.objects.filter(parent__isnull=True, name__in=[t[0] for t in top])
    }
    chain = history.place_chain(place_id)
    found = history.precedents(title=title or "", content=content or "", chain=chain, cases=cases)
    picks = history.picks(found, by_name.values())
    lines = _catalogue_picks(by_name.values(), chain)
    items = []
    for label, confidence in top:
        category = by_name.get(label)
        items.append(_mapped(label, confidence, category, picks, lines))
    return SuggestionSet(model_version(model), items)


def _mapped(
    label: str,
    confidence: float,
    category: Category | None,
    picks: dict[int, history.HistoryPick],
    lines: dict[int, tuple[Category | None, Unit | None]],
) -> Suggestion:
    if category is None:
        return Suggestion(label, confidence)
    line_sub, line_unit = lines.get(category.pk, (None, None))
    pick = picks.get(category.pk)
    if pick is not None and pick.unit is not None:
        sub = pick.subcategory or line_sub
        return Suggestion(label, confidence, category, sub, pick.unit, HISTORY, pick.support)
    return Suggestion(label, confidence, category, line_sub, line_unit)
