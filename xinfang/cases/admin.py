from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from xinfang.cases import holidays
from xinfang.cases.calendar import NOTICE_EXAMPLE, NoticeError, parse_notice
from xinfang.cases.models import HolidayOverride
from xinfang.cases.selectors import work_calendar


class NoticeForm(forms.Form):
    text = forms.CharField(
        label="节假日安排",
        widget=forms.Textarea(attrs={"rows": 12, "cols": 70}),
        help_text="每行一段：节日名称（可省略）、“放假”或“调休上班”、日期或日期段，"
        "如“春节 放假 2027-02-06 至 2027-02-14”“调休上班 2027-02-15、2027-02-20”。"
        "录入某年的安排将替换该年已有的节假日调整，并重算进行中的期限（只顺延，不提前）。",
    )
    title = forms.CharField(
        label="说明",
        max_length=60,
        required=False,
        help_text="如“国务院办公厅关于2027年部分节假日安排的通知”",
    )


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    """节假日调整: for years the holiday library does not know yet, or corrections.

    A change here recomputes the open clocks it touches (`holidays.override_changed`).
    """

    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    change_list_template = "admin/cases/holidayoverride/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.notice_view)
        return [path("notice/", view, name="cases_holidayoverride_notice"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"calendar_check": holidays.calendar_check(), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def notice_view(self, request):
        """录入节假日安排: a year's notice as date ranges, in one form."""
        if not self.has_add_permission(request) or not self.has_delete_permission(request):
            raise PermissionDenied
        form = NoticeForm(request.POST or None, initial={"text": NOTICE_EXAMPLE})
        if request.method == "POST" and form.is_valid():
            try:
                notice = parse_notice(form.cleaned_data["text"], title=form.cleaned_data["title"])
            except NoticeError as exc:
                for problem in exc.problems:
                    form.add_error("text", problem)
            else:
                result = holidays.notice_load(notice=notice, by=request.user)
                messages.success(request, result.summary())
                return redirect("admin:cases_holidayoverride_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "录入节假日安排",
            "calendar_check": holidays.calendar_check(),
        }
        return TemplateResponse(request, "admin/cases/holidayoverride/notice.html", context)

    def save_model(self, request, obj, form, change):
        before = work_calendar()
        days = {obj.date}
        if change and "date" in form.changed_data:
            days.add(HolidayOverride.objects.get(pk=obj.pk).date)
        super().save_model(request, obj, form, change)
        self._recomputed(
            request, holidays.override_changed(days=days, before=before, by=request.user)
        )

    def delete_model(self, request, obj):
        before = work_calendar()
        super().delete_model(request, obj)
        self._recomputed(
            request, holidays.override_changed(days=[obj.date], before=before, by=request.user)
        )

    def delete_queryset(self, request, queryset):
        before = work_calendar()
        days = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        self._recomputed(
            request, holidays.override_changed(days=days, before=before, by=request.user)
        )

    def _recomputed(self, request, changes) -> None:
        moved = [c for c in changes if not c.kept]
        if moved:
            messages.info(request, f"{len(moved)}个进行中的期限已按新的节假日顺延")
