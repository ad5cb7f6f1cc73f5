"""No spreadsheet the site hands out holds a formula, whatever a citizen typed (issue 12:
"every Excel export writes a cell that starts with = as a live formula").

Generated, not listed: every GET route of the persona matrix (tests/test_url_matrix.py, which
fails when a URL has no entry) is requested as the supervisor and as the clerk, plain and with
`format=xlsx`, and every declared export-job kind (settings.EXPORT_KINDS) is run through the
job writer. The matters' title, content and petitioner fields, a screening issue and a backlog
reason all start with `=HYPERLINK(...)`; no cell of any workbook that comes back may be a
formula (openpyxl: data_type "f"), and the known spreadsheet pages must be among those checked,
so a route that stops answering in .xlsx cannot quietly drop out.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.test_url_matrix import ROUTES, World, world  # noqa: F401 - `world` is a fixture
from xinfang.cases.models import Case
from xinfang.lib import xlsxcells
from xinfang.reports import panels as dash_panels

EVIL = '=HYPERLINK("http://x","y")'
OTHERS = ("+86-1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "＝1+1")
XLSX_TYPE = "spreadsheetml"
# Pages known to answer in .xlsx; the generated walk must find each of them.
KNOWN_XLSX = {
    "cases:export",
    "backlog:board",
    "backlog:round",
    "backlog:round_template",
    "routing:hot_export",
    "reports:rates",
    "reports:rate_matters",
    "reports:dashboard",
    "reports:dashboard_matters",
    "assessment:record",
}
SAMPLE_FILTERS = {"rate": "accept_on_time", "part": "denominator", "from": "2026-10-01"}


def _formulas(body: bytes) -> tuple[list[str], set[str]]:
    book = load_workbook(io.BytesIO(body))
    formulas, texts = [], set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}")
                elif isinstance(cell.value, str):
                    texts.add(cell.value)
    return formulas, texts


@pytest.fixture
def evil_world(world: World, county, people) -> World:  # noqa: F811 - the imported fixture
    from xinfang.backlog import screening

    Case.objects.update(
        title=EVIL,
        content=EVIL + " 请核实",
        petitioner_name=EVIL,
        petitioner_address=EVIL,
    )
    round_ = screening.round_create(
        by=people.clerk,
        name=EVIL,
        period_start=dt.date(2026, 11, 2),
        period_end=dt.date(2026, 11, 27),
    )
    for i, start in enumerate((EVIL, *OTHERS)):
        screening.entry_create(
            round_=round_,
            by=people.clerk,
            data=screening.EntryData(
                issue=f"{start}问题{i}",
                place=county.place,
                location=start,
                plan=start,
                deadline=dt.date(2026, 12, 20),
                households=3,
            ),
        )
    world.tokens["round"] = round_.pk
    computer = Client()
    computer.force_login(people.supervisor)
    computer.post(reverse("assessment:compute"), ROUTES["assessment:compute"].data(world))
    return world


def _kwargs(name: str, w: World) -> dict:
    if name.startswith("backlog:round"):
        return {"pk": w.tokens["round"]} if name == "backlog:round" else {}
    if name == "assessment:detail":
        from xinfang.assessment.models import Assessment

        return {"pk": Assessment.objects.latest("id").pk}
    return ROUTES[name].kwargs(w)


@pytest.mark.slow
def test_no_spreadsheet_of_any_page_holds_a_formula(client, evil_world):
    w = evil_world
    checked: set[str] = set()
    seen: set[str] = set()
    problems = []
    for persona in ("supervisor", "clerk"):
        client.force_login(w.users[persona])
        for name, route in sorted(ROUTES.items()):
            if route.method != "get" or route.api or name in ("", "logout", "exports:download"):
                continue
            url = reverse(name, kwargs=_kwargs(name, w))
            extras = [{}, {"format": "xlsx"}]
            if name == "reports:dashboard":  # one .xlsx per panel
                extras += [{"format": "xlsx", "panel": p} for p in dash_panels.PANELS]
            for extra in extras:
                response = client.get(url, {**route.data(w), **extra})
                if XLSX_TYPE not in response.get("Content-Type", ""):
                    continue
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                formulas, texts = _formulas(body)
                checked.add(name)
                seen |= texts
                if formulas:
                    problems.append((persona, name, extra, formulas[:3]))
    assert not problems, problems
    assert checked >= KNOWN_XLSX, f"no spreadsheet came back from {KNOWN_XLSX - checked}"
    assert EVIL in seen  # the citizen's text is there, as text
    assert any(t.startswith(EVIL) for t in seen)


def test_every_export_job_kind_writes_text_not_formulas(evil_world, settings, tmp_path):
    from xinfang.exports import kinds, services

    settings.XINFANG_EXPORT_DIR = tmp_path
    owner = evil_world.users["supervisor"]
    assert kinds.declared()
    for name, kind in kinds.declared().items():
        filters = {
            k: v for k, v in {**SAMPLE_FILTERS, "to": "2026-12-31"}.items() if k in kind.params
        }
        job = services.export_request(owner=owner, kind=name, filters=filters)
        job = services.export_run(job, worker="test")
        assert job.status == job.Status.DONE, (name, job.status, getattr(job, "error", ""))
        path = services.export_download(job=job, by=owner)
        formulas, _texts = _formulas(path.read_bytes())
        assert not formulas, (name, formulas[:3])


@pytest.mark.parametrize("value", [EVIL, *OTHERS])
def test_each_writer_keeps_a_formula_like_start_as_its_text(value):
    from xinfang.exports import writer
    from xinfang.reports import xlsx

    assert xlsxcells.looks_like_formula(value)
    for write in (
        lambda out: xlsx.write(out, value, [value], [[value, 1]]),
        lambda out: writer.write_xlsx(out, sheet="s", columns=[(value, 9)], rows=[[value, -1]]),
    ):
        out = io.BytesIO()
        write(out)
        formulas, texts = _formulas(out.getvalue())
        assert not formulas and value in texts  # readable: exactly what was typed
