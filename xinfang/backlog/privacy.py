"""The complainant on backlog pages and in the Word report (信访工作条例 Art. 46).

Whether a viewer may see who the petitioner is comes from one predicate,
`access.can_see_petitioner`; a backlog case only adds that its owner and task-force members may
open it (`permissions.can_view`). For a viewer who may not see the petitioner, every hearing
participant named as 信访人 reads "信访人（保密）", and the petitioner's name, phone, ID number
and address are replaced by the same words wherever staff typed them into a record (minutes,
findings, notes, reasons). Pages and the .docx report both go through `redactor_for`.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang.backlog import permissions
from xinfang.backlog.models import BacklogCase, HearingParticipant
from xinfang.cases import access
from xinfang.orgs.models import User

SECRET = "信访人（保密）"  # noqa: S105 (the words shown, not a password)
HIDDEN_NAME = "（保密）"  # after the participant's kind: 信访人（保密）


def sees_petitioner(user: User, backlog: BacklogCase, *, known_visible: bool = False) -> bool:
    """May `user` see who the petitioner of this backlog case is? `known_visible` skips the
    visibility check for rows that came from `selectors.visible_backlog`."""
    return access.can_see_petitioner(
        user, backlog.case, known_visible=known_visible or permissions.can_view(user, backlog)
    )


@dataclass(frozen=True)
class Redactor:
    """Rewrites text for one viewer: identity when the viewer may see the petitioner."""

    hides: bool = False
    secrets: tuple[str, ...] = ()

    def text(self, value: str | None) -> str:
        value = value or ""
        for secret in self.secrets:
            value = value.replace(secret, SECRET)
        return value

    def participant(self, participant: HearingParticipant) -> str:
        """The participant's name as this viewer may read it."""
        if self.hides and participant.kind == HearingParticipant.Kind.PETITIONER:
            return HIDDEN_NAME
        return self.text(participant.name)


def redactor_for(
    user: User | None, backlog: BacklogCase, *, known_visible: bool = False
) -> Redactor:
    """The rewriting for `user`; no user (a document written for nobody in particular) hides."""
    if user is not None and sees_petitioner(user, backlog, known_visible=known_visible):
        return Redactor()
    case = backlog.case
    found = [
        case.petitioner_name,
        case.petitioner_phone,
        case.petitioner_address,
        case.petitioner_id_number,
        case.petitioner_id_number.lower(),
    ]
    # Longest first, so that an ID number goes before a name inside it; a one-character name
    # would rewrite every text, so only names of two characters and more are replaced.
    secrets = sorted({s.strip() for s in found if len(s.strip()) >= 2}, key=len, reverse=True)
    return Redactor(hides=True, secrets=tuple(secrets))


def redact_document(doc, r: Redactor) -> None:
    """Rewrite every paragraph and table cell of a python-docx document, run by run."""
    if not r.secrets:
        return
    paragraphs = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                paragraphs += cell.paragraphs
    for paragraph in paragraphs:
        if any(secret in paragraph.text for secret in r.secrets):
            for run in paragraph.runs:
                run.text = r.text(run.text)
            if any(secret in paragraph.text for secret in r.secrets):  # split across runs
                text = r.text(paragraph.text)
                for run in paragraph.runs[1:]:
                    run.text = ""
                paragraph.runs[0].text = text


def redact_records(
    r: Redactor,
    *,
    backlog: BacklogCase,
    plans=(),
    steps=(),
    meetings=(),
    aids=(),
    mediations=(),
    hearings=(),
    summonses=(),
    events=(),
) -> None:
    """Rewrite, in memory and for one page, every text that staff typed about the matter.

    The objects are only rendered, never saved; each collection must be a list (or a prefetched
    queryset) so that the page shows the very objects rewritten here.
    """
    if not r.hides:
        return
    backlog.flag_reason = r.text(backlog.flag_reason)
    backlog.acceptance_note = r.text(backlog.acceptance_note)
    for p in plans:
        p.path, p.funds_source = r.text(p.path), r.text(p.funds_source)
    for s in steps:
        s.notes, s.comment = r.text(s.notes), r.text(s.comment)
        s.external_attendees = r.text(s.external_attendees)
    for m in meetings:
        m.decisions = r.text(m.decisions)
        for a in m.actions.all():
            a.description = r.text(a.description)
    for a in aids:
        a.note, a.source, a.approved_by = r.text(a.note), r.text(a.source), r.text(a.approved_by)
    for m in mediations:
        m.outcome_note = r.text(m.outcome_note)
        for s in m.sessions.all():
            s.notes = r.text(s.notes)
    for h in hearings:
        h.place, h.minutes = r.text(h.place), r.text(h.minutes)
        h.findings, h.decision = r.text(h.findings), r.text(h.decision)
        for p in h.participants.all():
            p.name = r.participant(p)
    for s in summonses:
        s.reason, s.commitments = r.text(s.reason), r.text(s.commitments)
    for e in events:
        e.details = {
            k: r.text(v) if isinstance(v, str) else v for k, v in (e.details or {}).items()
        }
