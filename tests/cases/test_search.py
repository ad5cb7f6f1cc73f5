"""Chinese full-text search on character bigrams: two-character words, phrases, both plans."""

import pytest
from django.db import connection

from tests.factories import bj, register
from xinfang.cases import search
from xinfang.cases.models import Case


def test_tokens_are_overlapping_bigrams_with_latin_words_whole():
    assert search.tokens("拖欠工资ABC公司 3个月") == [
        "拖欠",
        "欠工",
        "工资",
        "abc",
        "公司",
        "3",
        "个月",
    ]
    assert search.tokens("薪") == ["薪"]


@pytest.fixture
def matters(county, people):
    texts = {
        "wages": ("公司欠薪三个月", "老板拖欠工资，欠薪两万元。"),
        "noise": ("夜间施工噪音扰民", "工地夜间施工，噪音很大。"),
        "split": ("欠款问题", "邻居欠了钱，薪水也没发。"),  # 欠 and 薪 never adjacent
        "company": ("反映ABC物流公司", "ABC物流拖欠运费。"),
    }
    return {
        key: register(county, people.clerk, bj(2026, 11, 1 + i, 9), title=title, content=content)
        for i, (key, (title, content)) in enumerate(texts.items())
    }


def _found(query):
    return set(search.filter_cases(Case.objects.all(), query).values_list("pk", flat=True))


def test_a_two_character_word_is_found_and_not_across_a_gap(matters):
    assert _found("欠薪") == {matters["wages"].pk}


def test_a_longer_phrase_matches_consecutive_characters_only(matters):
    assert _found("拖欠工资") == {matters["wages"].pk}
    assert _found("拖欠运费") == {matters["company"].pk}
    assert _found("工资拖欠") == set()


def test_every_word_must_match_and_latin_is_case_insensitive(matters):
    assert _found("abc 运费") == {matters["company"].pk}
    assert _found("噪音 欠薪") == set()


def test_the_case_number_is_searchable(matters):
    assert _found(matters["noise"].number) == {matters["noise"].pk}


def test_punctuation_only_finds_nothing(matters):
    assert _found("，。！") == set()


def test_many_hits_take_the_other_plan_with_the_same_result(matters, monkeypatch):
    few = _found("拖欠")
    monkeypatch.setattr(search, "FEW_HITS", 1)
    assert _found("拖欠") == few == {matters["wages"].pk, matters["company"].pk}


@pytest.mark.parametrize("with_units", [False, True])
@pytest.mark.parametrize(("first", "last"), [(256, 16384), (2, 8), (1, 1)])
def test_search_pages_walk_every_hit_once_in_the_users_scope(
    county, people, monkeypatch, first, last, with_units
):
    from xinfang.cases import access, selectors, services

    monkeypatch.setattr(selectors, "SEARCH_FIRST_BATCH", first)
    monkeypatch.setattr(selectors, "SEARCH_LAST_BATCH", last)
    mine, others = [], []
    for i in range(14):
        case = register(county, people.clerk, bj(2026, 10, 1 + i, 9), title=f"欠薪问题{i}")
        unit = county.hr if i % 2 else county.edu
        services.case_route(case=case, by=people.clerk, unit=unit)
        (mine if unit == county.hr else others).append(case.pk)
    register(county, people.clerk, bj(2026, 10, 20, 9), title="噪音", content="夜间噪音")
    qs = access.queue_cases(people.officer, "lead")
    units = selectors.search_units(people.officer, "lead") if with_units else None
    assert not with_units or units == ("lead", [county.hr.pk])
    seen, cursor = [], None
    while True:
        rows, cursor = selectors.queue_page(qs, {"q": "欠薪", "after": cursor}, size=3, units=units)
        seen += [c.pk for c in rows]
        if not cursor:
            break
    assert seen == sorted(mine, reverse=True)


@pytest.mark.parametrize(
    "title, content",
    [
        ("拖欠工资", "本人在某建筑公司务工，公司拖欠工资三个月未发（欠薪2万元），WeChat: abc123。"),
        ("欠", "a 一 b 二三"),
        ("", ""),
        ("标题", "长" * 5000),
    ],
)
def test_a_prepared_document_indexes_exactly_like_a_registered_matter(title, content):
    body, count = search.prepared_document(title, content)
    words = search.tokens(f"{title} {content}")
    if connection.vendor == "postgresql":
        expected = " ".join(f"'{w}':{i}" for i, w in enumerate(words, 1))
    else:
        expected = " ".join(words)
    assert body == expected and count == len(words)


def test_the_index_knows_each_matters_units_as_they_change(county, people):
    from xinfang.cases import services

    def found(scope, unit):
        return list(search.filter_cases(Case.objects.all(), "欠薪", units=(scope, [unit.pk])))

    case = register(county, people.clerk, bj(2026, 10, 1, 9), title="欠薪问题")
    assert found("office", county.office) == [case] and found("lead", county.hr) == []
    services.case_route(case=case, by=people.clerk, unit=county.hr, co_units=[county.edu])
    assert found("lead", county.hr) == [case] and found("co", county.edu) == [case]
    assert found("lead", county.edu) == []
    services.case_object(case=case, by=people.officer, reason="不属于本单位职责")
    assert (
        found("lead", county.hr) == [] and found("co", county.edu) == []
    )  # no stale entry is left
    services.case_route(case=case, by=people.clerk, unit=county.housing)
    assert found("lead", county.housing) == [case] and found("office", county.office) == [case]
    assert search.filter_cases(Case.objects.all(), "欠薪").get() == case  # words alone still match

    assert search.rebuild() == 1  # the same document again
    assert found("lead", county.housing) == [case] and found("lead", county.hr) == []


@pytest.mark.parametrize("window", [1, 2, 3, 20_000])
def test_the_newest_window_gives_what_the_index_gives(matters, monkeypatch, window):
    """PostgreSQL reads the newest rows first for common words; whatever the window, the hits
    are the index's, newest first, page by page (on SQLite the window is not used)."""
    monkeypatch.setattr(search, "NEWEST_WINDOW", 10**9)
    expected = {
        (q, before, limit): search.hit_ids(q, before_id=before, limit=limit)
        for q in ("拖欠", "欠薪", "噪音", "夜间")
        for before in (None, matters["company"].pk, matters["noise"].pk)
        for limit in (1, 2, 5)
    }
    monkeypatch.setattr(search, "NEWEST_WINDOW", window)
    got = {key: search.hit_ids(key[0], before_id=key[1], limit=key[2]) for key in expected}
    assert got == expected
    assert expected[("拖欠", None, 5)] == [matters["company"].pk, matters["wages"].pk]
    if connection.vendor == "postgresql":
        hits = search._newest_window_hits(search._tsquery("拖欠"), None, 1)
        assert hits == ([matters["company"].pk] if window >= 1 else None)
