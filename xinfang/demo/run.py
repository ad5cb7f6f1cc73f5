"""The run (`generate`): plan every matter, then carry the plans out on the service or bulk path;
forked workers plan and build while this process writes."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xinfang.cases import clocks, search, services
from xinfang.cases.models import HOTLINE_KINDS, Case, State
from xinfang.cases.workflow import CITIZEN_WINDOWS
from xinfang.demo.builder import Builder
from xinfang.demo.fill import LIVE_SPAN, Filled, fill_pages
from xinfang.demo.org import DemoOrg, ensure_demo_org
from xinfang.demo.plans import Planner
from xinfang.demo.replay import _Replay
from xinfang.demo.writer import Prepared, _fast_sqlite, _Writer

LOCAL = clocks.LOCAL
S = State


SERVICE_PATH_MAX = 2000  # up to this many matters go through the services by default
BATCH_SIZE = 5000  # matters per transaction on the bulk path
#: with the pages filled, the run's last matters (a tenth, at most this many) are registered
#: after training as just in, and the model routes those it is sure of (fill._live)
LIVE = 10

# ---------------------------------------------------------------- the run


@dataclass
class Result:
    created: int
    path: str
    seconds: float
    states: Counter
    overdue: int
    due_soon: int
    filled: Filled | None = None


Progress = Callable[[int, int, float], None]


def generate(
    *,
    cases: int,
    seed: int = 2026,
    now: dt.datetime | None = None,
    use_bulk: bool | None = None,
    org: DemoOrg | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
    progress: Progress | None = None,
    fill: bool = True,
) -> Result:
    """Generate `cases` demo matters.

    `use_bulk` None: the services up to SERVICE_PATH_MAX matters, the bulk path above.
    `workers`: processes that plan and build matters for the bulk path while this one writes
    (None: one per CPU for large runs; 0: all in this process). The data do not depend on it.
    `fill`: then train the routing model, run the backlog scan and fill the rota, reception,
    bookings and screening (`fill.fill_pages`), so that every page has something to show; the
    last tenth of the matters (at most LIVE) then come in as news, for 智能派单 to route.
    """
    started = time.monotonic()
    org = org or ensure_demo_org()
    now = now or timezone.now()
    if use_bulk is None:
        use_bulk = cases > SERVICE_PATH_MAX
    if workers is None:
        workers = (os.cpu_count() or 1) if use_bulk and cases >= 20000 else 0
    live = min(LIVE, cases // 10) if fill else 0  # the last ones come in as news (智能派单)
    planned = cases - live
    # the plans end LIVE_SPAN before `now`: the last hours are the live matters'
    planner = Planner(org, seed=seed, now=now - LIVE_SPAN if live else now, total=planned)
    registered = _first_pass(planner, planned, workers)
    order = sorted(range(planned), key=registered.__getitem__)
    with _plans_route():
        if use_bulk:
            _run_bulk(planner, order, registered, batch_size, workers, progress, started)
        else:
            _run_services(planner, order, progress, started)
    seconds = time.monotonic() - started
    filled = fill_pages(org=org, seed=seed, now=now, live=live) if fill else None
    result = _summary(cases, "bulk" if use_bulk else "services", seconds, now)
    result.filled = filled
    return result


@contextmanager
def _plans_route():
    """智能派单 off while the plans are replayed: each plan decides its own routes, and a matter
    of the last weeks registered while a model is in place (a second run, a database rebuilt
    beside an old model file) must not be routed by the model before its plan routes it. The
    demo's last registrations are routed by the model after training (`fill._live`)."""
    was = settings.XINFANG_AUTO_ROUTE
    settings.XINFANG_AUTO_ROUTE = False
    try:
        yield
    finally:
        settings.XINFANG_AUTO_ROUTE = was


# What forked worker processes read; set before a pool starts (workers never touch the database).
_SHARED: dict[str, Any] = {}


@contextmanager
def _pool(workers: int, **shared: Any):
    """A pool of forked workers that see `shared`, or None to work in this process."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _SHARED.update(shared)
        yield None
        return
    _SHARED.update(shared)
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def _map(pool, function, items):
    """`function` over `items` in order; with a pool, at most two batches per worker in flight,
    so a slower writer never has the whole run waiting in memory."""
    if pool is None:
        yield from map(function, items)
        return
    items = iter(items)
    window = 2 * pool._processes
    pending = deque(pool.apply_async(function, (item,)) for item in islice(items, window))
    while pending:
        result = pending.popleft().get()
        for item in islice(items, 1):
            pending.append(pool.apply_async(function, (item,)))
        yield result


def _skeletons(bounds: tuple[int, int]) -> tuple[int, bytes, list[int], list[tuple[int, int]]]:
    """Registration times of matters [start, stop), the pending 不再受理 and the final ones."""
    planner: Planner = _SHARED["planner"]
    start, stop = bounds
    registered = array("d", bytes(8 * (stop - start)))
    pending: list[int] = []
    finals: list[tuple[int, int]] = []
    for index in range(start, stop):
        plan = planner.skeleton(index, pending_ok=True)
        if plan is None:
            pending.append(index)
            continue
        registered[index - start] = plan.registered_at.timestamp()
        if plan.state == S.FINAL and plan.kind not in HOTLINE_KINDS:
            finals.append(((planner.today - plan.closed_at.date()).days, index))
    return start, registered.tobytes(), pending, finals


def _first_pass(planner: Planner, total: int, workers: int) -> array:
    """Plan every skeleton once: the registration times (for numbering) and the 不再受理 priors."""
    registered = array("d", bytes(8 * total))
    pending: list[int] = []
    finals: list[tuple[int, int]] = []
    step = 20000
    with _pool(workers, planner=planner) as pool:
        for start, times, waiting, final in _map(
            pool, _skeletons, [(start, min(start + step, total)) for start in range(0, total, step)]
        ):
            chunk = array("d")
            chunk.frombytes(times)
            registered[start : start + len(chunk)] = chunk
            pending += waiting
            finals += final
    finals.sort(key=lambda item: item[1])
    planner.choose_priors(pending, finals)
    for index in pending:
        registered[index] = planner.skeleton(index).registered_at.timestamp()
    return registered


def _run_services(
    planner: Planner, order: list[int], progress: Progress | None, started: float
) -> None:
    """Replay every step through the service functions, all matters interleaved in time order."""
    builder = Builder(planner)
    plans = {}
    for position, index in enumerate(order):
        plan = planner.plan(index)
        builder.build(plan, plan.registered_at.year, position)  # decides the 催办 steps
        plans[index] = plan
    queue = sorted(
        (step.at, index, k) for index, plan in plans.items() for k, step in enumerate(plan.steps)
    )
    replay = _Replay(planner)
    for n, (_at, index, k) in enumerate(queue, 1):
        replay.step(plans[index], k)
        if progress and n % 500 == 0:
            progress(len(replay.pks), len(order), time.monotonic() - started)


def _run_bulk(
    planner: Planner,
    order: list[int],
    registered: array,
    batch_size: int,
    workers: int,
    progress: Progress | None,
    started: float,
) -> None:
    """Write the matters in batches, one transaction each, numbered in registration order."""
    office = planner.org.office
    _fast_sqlite()
    years = Counter(dt.datetime.fromtimestamp(registered[i], LOCAL).year for i in order)
    with transaction.atomic():
        next_seq = {
            year: services.reserve_numbers(office, year, count)
            for year, count in sorted(years.items())
        }
    numbered = []
    for index in order:
        year = dt.datetime.fromtimestamp(registered[index], LOCAL).year
        numbered.append((index, year, next_seq[year]))
        next_seq[year] += 1
    builder = Builder(planner, remember=False)
    priors = {prior for prior in (planner.naa.get(i) for i in planner.naa) if prior}
    prior_ids = {index for index, _ in priors}
    for index, year, seq in numbered:
        if index in prior_ids:
            builder.numbers[index] = (services.case_number(office, year, seq), None)
    writer = _Writer()
    done = 0
    chunks = [numbered[start : start + batch_size] for start in range(0, len(numbered), batch_size)]
    with _pool(workers, planner=planner, builder=builder, writer=writer) as pool:
        for prepared in _map(pool, _prepare, chunks):
            writer.write(builder, prepared)
            done += len(prepared)
            if progress:
                progress(done, len(order), time.monotonic() - started)


def _prepare(chunk: list[tuple[int, int, int]]) -> list[Prepared]:
    """Plan and build a batch of matters (in a worker process, or in this one)."""
    planner: Planner = _SHARED["planner"]
    builder: Builder = _SHARED["builder"]
    writer: _Writer = _SHARED["writer"]
    out = []
    for index, year, seq in chunk:
        plan = planner.plan(index)
        built = builder.build(plan, year, seq)
        case = built.case
        out.append(
            Prepared(
                index=index,
                prior=plan.prior,
                year=year,
                seq=seq,
                number=case.number,
                values=writer.case_values(case),
                events=writer.event_values(built.events),
                co_units=built.co_units,
                representatives=plan.representatives,
                tokens=search.document_tokens(case, co_units=built.co_units),
            )
        )
    return out


def _summary(total: int, path: str, seconds: float, now: dt.datetime) -> Result:
    from django.db.models import Count

    from xinfang.cases.selectors import due_soon_cases, overdue_cases

    states = Counter(dict(Case.objects.values_list("state").annotate(n=Count("id")).order_by()))
    office_clocks = Case.objects.exclude(clock__in=list(CITIZEN_WINDOWS))
    return Result(
        created=total,
        path=path,
        seconds=seconds,
        states=states,
        overdue=overdue_cases(office_clocks, now).count(),
        due_soon=due_soon_cases(office_clocks, now).count(),
    )
