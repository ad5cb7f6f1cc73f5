"""个人信息查看记录 / the personal-data audit log: who saw which petitioner's full data, when, why.

The rows are written by `cases.services.personal_data_reveal` (and the routing side box); here
they are read for administrators (filtered by date, staff user and matter number; paginated;
.xlsx) and purged after the retention period, never earlier than 180 days
(XINFANG_AUDIT_RETENTION_DAYS, refused lower at start).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from xinfang.exports.models import ExportDownload
from xinfang.ops.models import AuditLogAccess
from xinfang.orgs.models import PersonalDataView, Role, User
from xinfang.reception.models import BookingPhoneView

MIN_RETENTION_DAYS = 180
FIELD_LABELS = {"id_number": "身份证号", "phone": "电话", "name": "姓名", "address": "住址"}
PURPOSE_LABELS = {
    "detail": "事项页查看完整信息",
    "api": "接口查看完整信息",
    "same_petitioner": "同一信访人事项",
}
HEADER = ("时间", "查看人", "账号", "所在单位", "事项编号或对象", "查看内容", "途径", "理由")
# The three audit logs of personal data, one at a time (each its own table and order).
KINDS = {
    "case": "事项信访人身份信息",
    "booking": "约访预约电话",
    "export": "含信访人姓名的导出文件下载",
}


def is_auditor(user) -> bool:
    """Only administrators read the audit log."""
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


class AuditFilterForm(forms.Form):
    kind = forms.ChoiceField(label="记录类别", required=False, choices=list(KINDS.items()))
    date_from = forms.DateField(label="起始日期", required=False)
    date_to = forms.DateField(label="截止日期", required=False)
    user = forms.CharField(label="查看人账号", required=False, max_length=150)
    number = forms.CharField(label="事项编号", required=False, max_length=40)

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("起始日期不能晚于截止日期")
        return data


@dataclass(frozen=True)
class AuditFilter:
    kind: str = "case"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    user: str = ""
    number: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "user": self.user,
            "number": self.number,
        }


def filter_from(data) -> tuple[AuditFilter, AuditFilterForm]:
    """The filter of a query string; an invalid one filters nothing and the form says why."""
    form = AuditFilterForm(data)
    if not form.is_valid():
        return AuditFilter(), form
    d = form.cleaned_data
    return (
        AuditFilter(
            d["kind"] or "case",
            d["date_from"],
            d["date_to"],
            d["user"].strip(),
            d["number"].strip(),
        ),
        form,
    )


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))  # Beijing midnight


def audit_rows(f: AuditFilter) -> QuerySet:
    """The rows of the chosen log, newest first, filtered by day, account and matter number."""
    if f.kind == "booking":
        rows: QuerySet = BookingPhoneView.objects.select_related("user", "user__unit", "booking")
        number = "booking__case_number"
    elif f.kind == "export":
        rows = ExportDownload.objects.select_related("user", "user__unit", "job")
        number = ""
    else:
        rows = PersonalDataView.objects.select_related("user", "user__unit", "case")
        number = "case__number"
    if f.date_from:
        rows = rows.filter(at__gte=_day_start(f.date_from))
    if f.date_to:
        rows = rows.filter(at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.user:
        rows = rows.filter(user__username=f.user)
    if f.number:
        rows = rows.filter(**{number: f.number}) if number else rows.none()
    return rows.order_by("-at", "-id")


def fields_label(fields: str) -> str:
    return "、".join(FIELD_LABELS.get(x, x) for x in fields.split(",") if x)


def row_values(v) -> tuple:
    """One row as shown and exported (HEADER)."""
    user: User = v.user
    who = (
        timezone.localtime(v.at).strftime("%Y-%m-%d %H:%M:%S"),
        user.display_name or user.username,
        user.username,
        user.unit.name if user.unit else "",
    )
    if isinstance(v, BookingPhoneView):
        ref = v.booking.reference + (
            f"（事项 {v.booking.case_number}）" if v.booking.case_number else ""
        )
        return (*who, f"约访预约 {ref}", "电话", "查看预约完整电话", "")
    if isinstance(v, ExportDownload):
        return (*who, f"导出任务 {v.job_id}", f"信访人姓名（{v.rows} 行）", "下载导出文件", "")
    return (
        *who,
        v.case.number,
        fields_label(v.fields),
        PURPOSE_LABELS.get(v.purpose, v.purpose),
        v.reason,
    )


def audit_access_record(*, user: User, f: AuditFilter, fmt: str, rows: int) -> None:
    """Looking at the audit log leaves its own row (查阅记录)."""
    AuditLogAccess.objects.create(user=user, filters=f.as_dict(), format=fmt, rows=rows)


def retention_days() -> int:
    return max(int(settings.XINFANG_AUDIT_RETENTION_DAYS), MIN_RETENTION_DAYS)


def purge_expired_audit(now: dt.datetime | None = None) -> int:
    """删除超过保存期限的查看记录 (daily): rows older than XINFANG_AUDIT_RETENTION_DAYS (at least
    180 days) of every audit log of personal data. Returns how many rows went."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    removed = 0
    for model in (PersonalDataView, BookingPhoneView, ExportDownload, AuditLogAccess):
        removed += model.objects.filter(at__lt=cutoff).delete()[0]
    return removed
