"""Chinese full-text search on overlapping character bigrams.

Trigram indexes cannot serve a two-character word such as 欠薪, and word segmenters miss new
place and company names. Indexing every pair of adjacent Han characters (as Lucene's CJK
analyzer does) finds both, and a phrase of consecutive bigrams matches a longer word exactly.

SQLite keeps the bigrams in a contentless FTS5 table (rowid = case id); PostgreSQL keeps a
`tsvector` built from the same tokens in `cases_search` with a GIN index. The tokens are built
here in Python, so both databases index and match exactly the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from xinfang.cases.bulkinsert import insert_rows
from xinfang.cases.models import Case, CoHandler

_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[0-9A-Za-z]+")
MAX_TOKENS = 4000


def tokens(text: str) -> list[str]:
    """Bigrams of every Han run (a lone character stays itself), lower-cased Latin words and numbers."""
    out: list[str] = []
    for run in _RUN.findall(text or ""):
        if run[0].isascii():
            out.append(run.lower())
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(map(str.__add__, run, run[1:]))  # the bigrams, made in C
    return out[:MAX_TOKENS]


# Each document also carries its matter's units as tokens (xfuo<office>, xful<lead>, xfur<review>,
# xfurr<re-review>, xfuc<co-handler>), so that a narrow queue's search is one intersection in the
# text index instead of a walk over every hit of a common word. Text tokens are Han bigrams or
# lower-case words, so a user's words can match these only by typing them.
UNIT_TOKEN = {"office": "xfuo", "lead": "xful", "review": "xfur", "rereview": "xfurr", "co": "xfuc"}


def unit_token(role: str, unit_id: int) -> str:
    return f"{UNIT_TOKEN[role]}{unit_id}"


def unit_tokens(case: Case, co_units: Iterable[int] | None = None) -> list[str]:
    """The unit tokens of `case`; its co-handlers are read unless given."""
    if co_units is None:
        co_units = (
            CoHandler.objects.filter(case_id=case.pk).values_list("unit_id", flat=True)
            if case.pk
            else ()
        )
    units = [
        ("office", case.office_id),
        ("lead", case.lead_unit_id),
        ("review", case.review_unit_id),
        ("rereview", case.rereview_unit_id),
        *(("co", u) for u in sorted(co_units)),
    ]
    return [unit_token(role, pk) for role, pk in units if pk]


def _text_tokens(case: Case) -> list[str]:
    return tokens(f"{case.title} {case.content} {case.number}")


def document_tokens(case: Case, co_units: Iterable[int] | None = None) -> list[str]:
    """Everything a matter's index entry holds: its text's tokens, then its units'."""
    return _text_tokens(case) + unit_tokens(case, co_units)


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def index_case(case: Case) -> None:
    """Add a newly registered matter to the index (same transaction as the registration)."""
    index_many([(case.pk, document_tokens(case, co_units=()))])


def reindex_units(case: Case, before: list[str]) -> None:
    """Replace `case`'s document when its units changed (`before`: its unit tokens until now).

    SQLite's contentless index forgets a document only when given its exact tokens again.
    """
    after = unit_tokens(case)
    if after == before:
        return
    text = _text_tokens(case)
    if _is_pg():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_search SET doc = %s::tsvector WHERE case_id = %s",
                [_entry(text + after, pg=True), case.pk],
            )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_fts (cases_fts, rowid, body) VALUES ('delete', %s, %s)",
            [case.pk, _entry(text + before, pg=False)],
        )
    _insert_documents([(case.pk, _entry(text + after, pg=False))])


def _insert_documents(docs: list[tuple[int, str]]) -> None:
    """Index new matters, (case id, entry in this database's form): no entry to replace, so
    PostgreSQL can take them by COPY."""
    if _is_pg():
        insert_rows("cases_search", ["case_id", "doc"], docs)
    else:
        insert_rows("cases_fts", ["rowid", "body"], docs)


def _entry(words: list[str], pg: bool, first: int = 1) -> str:
    """Tokens as this database indexes them; `first` is the position of the first token.

    On PostgreSQL a tsvector literal with positions, so that phrase queries (<->) match
    consecutive bigrams (MAX_TOKENS keeps them far below tsvector's 16,383 positions).
    """
    return " ".join(f"'{w}':{i}" for i, w in enumerate(words, first)) if pg else " ".join(words)


def index_many(rows: list[tuple[int, list[str]]]) -> None:
    """Index new matters, (case id, `document_tokens`) pairs: the register, the demo, `rebuild`."""
    pg = _is_pg()
    _insert_documents([(pk, _entry(words, pg)) for pk, words in rows])


def prepared_document(title: str, content: str, *, pg: bool | None = None) -> tuple[str, int]:
    """A matter's index entry before it has a number: (text in this database's form, tokens).

    Imports build it while checking rows (in another process), so the writer only appends the
    number's and the office's tokens in `index_prepared`; the result equals `index_case`'s.
    """
    words = tokens(f"{title} {content}")
    return _entry(words, _is_pg() if pg is None else pg), len(words)


def index_prepared(rows: list[tuple[int, str, int, str]], *, office_id: int) -> None:
    """Index new matters of `office_id`: (case id, prepared text, its token count, number) rows."""
    pg, office = _is_pg(), unit_token("office", office_id)
    docs = []
    for pk, body, count, number in rows:
        extra = _entry([*tokens(number)[: MAX_TOKENS - count], office], pg, count + 1)
        docs.append((pk, f"{body} {extra}" if body else extra))
    _insert_documents(docs)


def _fts5_query(query: str) -> str:
    phrases = []
    for part in query.split():
        words = tokens(part)
        if words:
            phrases.append('"' + " ".join(words) + '"')
    return " AND ".join(phrases)


def _tsquery(query: str) -> str:
    phrases = []
    for part in query.split():
        words = tokens(part)
        if words:
            phrases.append("(" + " <-> ".join(f"'{w}'" for w in words) + ")")
    return " & ".join(phrases)


# Below this many hits the matching ids are fetched first and the page is sorted from them;
# above it the queue's own index is walked newest-first and each row checked against the hits,
# which finds a page of a common word after a few hundred rows. Either way no query scans
# the whole table, whether the word is rare or everywhere.
FEW_HITS = 5000


def _match_sql(
    query: str, units: tuple[str, Iterable[int]] | None = None
) -> tuple[str, str] | None:
    """(SQL selecting matching case ids, its parameter), or None when the query has no tokens.

    `units` = (queue scope, unit ids) also requires one of those units in that role.
    """
    scope = [unit_token(units[0], pk) for pk in units[1]] if units else []
    if _is_pg():
        expression = _tsquery(query)
        if expression and scope:
            expression = f"{expression} & (" + " | ".join(f"'{t}'" for t in scope) + ")"
        return (
            ("SELECT case_id FROM cases_search WHERE doc @@ %s::tsquery", expression)
            if expression
            else None
        )
    expression = _fts5_query(query)
    if expression and scope:
        expression = f"{expression} AND (" + " OR ".join(scope) + ")"
    return (
        ("SELECT rowid FROM cases_fts WHERE cases_fts MATCH %s", expression) if expression else None
    )


def filter_cases(
    qs: QuerySet[Case], query: str, *, units: tuple[str, Iterable[int]] | None = None
) -> QuerySet[Case]:
    """Narrow `qs` to matters whose title, content or number contain every word of `query`.

    `units` (queue scope, unit ids) lets the text index itself narrow the hits to the queue.
    """
    query = (query or "").strip()
    if not query:
        return qs
    match = _match_sql(query, units)
    if match is None:
        return qs.none()
    sql, param = match
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {FEW_HITS + 1}", [param])
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) <= FEW_HITS:
        return qs.filter(id__in=ids)
    return qs.filter(id__in=RawSQL(sql, [param]))  # noqa: S611 - constant SQL, the query is a parameter


def hit_ids(
    query: str,
    *,
    before_id: int | None = None,
    limit: int = 256,
    units: tuple[str, Iterable[int]] | None = None,
) -> list[int]:
    """Ids of the newest `limit` matters matching `query` (below `before_id`), newest first.

    Both indexes walk their id order backwards and stop at `limit`, so this costs the same for
    a word in every tenth matter as for a word in three.
    """
    match = _match_sql((query or "").strip(), units)
    if match is None:
        return []
    sql, param = match
    if _is_pg():
        newest = _newest_window_hits(param, before_id, limit)
        if newest is not None:
            return newest
    column = "case_id" if _is_pg() else "rowid"
    params: list = [param]
    if before_id is not None:
        sql += f" AND {column} < %s"
        params.append(before_id)
    sql += f" ORDER BY {column} DESC LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


# PostgreSQL: how many of the newest index rows are read first (see _newest_window_hits).
NEWEST_WINDOW = 20_000


def _newest_window_hits(expression: str, before_id: int | None, limit: int) -> list[int] | None:
    """PostgreSQL only: the newest `limit` hits if they lie among the NEWEST_WINDOW newest index
    rows (below `before_id`), else None.

    A phrase in one matter of ten (拖欠工资: 97,507 of a million) is estimated by the planner as
    rare, so the GIN bitmap reads ~68,000 pages (526 ms at 1M); reading the newest 20,000 rows
    by the primary key and testing each costs ~5 ms. Correct whenever it answers: every hit
    outside the window is older than every row inside it. Rare words fall back to the index.
    """
    inner = "SELECT case_id, doc FROM cases_search"
    params: list = []
    if before_id is not None:
        inner += " WHERE case_id < %s"
        params.append(before_id)
    inner += " ORDER BY case_id DESC LIMIT %s"
    params += [NEWEST_WINDOW, expression, limit]
    sql = (
        f"SELECT case_id FROM ({inner}) newest WHERE doc @@ %s::tsquery"  # noqa: S608 - no input
        " ORDER BY case_id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) == limit else None


def rebuild(case_model=Case, cohandler_model=CoHandler) -> int:
    """Index every matter again (after a restore, an import that bypassed the register, or a
    change of what a document holds). Migrations pass their historical models."""
    with connection.cursor() as cursor:
        if _is_pg():
            cursor.execute("DELETE FROM cases_search")
        else:  # a contentless index cannot DELETE; this empties it
            cursor.execute("INSERT INTO cases_fts (cases_fts) VALUES ('delete-all')")
    count = 0
    fields = (
        "id",
        "title",
        "content",
        "number",
        "office_id",
        "lead_unit_id",
        "review_unit_id",
        "rereview_unit_id",
    )
    cases = case_model.objects.only(*fields).order_by("id")
    last = 0
    while True:
        batch = list(cases.filter(id__gt=last)[:2000])
        if not batch:
            return count
        co: dict[int, list[int]] = {}
        for case_id, unit_id in cohandler_model.objects.filter(
            case_id__in=[c.pk for c in batch]
        ).values_list("case_id", "unit_id"):
            co.setdefault(case_id, []).append(unit_id)
        index_many([(c.pk, document_tokens(c, co.get(c.pk, ()))) for c in batch])
        count += len(batch)
        last = batch[-1].pk
