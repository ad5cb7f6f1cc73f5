"""Forms: parse what a person typed into the arguments the services take."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone

from xinfang.cases.models import (
    CONFIDENTIAL_KINDS,
    Case,
    Channel,
    Kind,
    Outcome,
    Rating,
    RouteMode,
    State,
    Urgency,
)
from xinfang.lib import bounds
from xinfang.lib.formfields import IdChoiceField, IdMultipleChoiceField
from xinfang.orgs.models import Category, Place, Unit

if TYPE_CHECKING:
    from xinfang.cases.registration import Registration


class UserForm(forms.Form):
    """A form that knows who fills it in, so that a matter number typed into it is looked up
    only among the matters that user may see (`access.case_by_number_for_user`)."""

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def _case_by_number(self, name: str, purpose: str) -> Case | None:
        # imported here: access reads the transition table (workflow), which names these forms
        from xinfang.cases import access

        number = self.cleaned_data[name].strip()
        if not number:
            return None
        case = access.case_by_number_for_user(self.user, number, purpose)
        if case is None:
            raise forms.ValidationError(access.NOT_FOUND)
        return case


class RegisterForm(UserForm):
    channel = forms.ChoiceField(label="来源渠道", choices=Channel.choices)
    kind = forms.ChoiceField(label="事项类型", choices=Kind.choices)
    urgency = forms.ChoiceField(
        label="紧急程度（12345）", choices=[("", "一般"), *Urgency.choices], required=False
    )
    registered_at = forms.DateTimeField(
        label="登记时间",
        required=False,
        help_text="留空为当前时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    title = forms.CharField(label="标题", max_length=120)
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 6}))
    place = IdChoiceField(label="问题属地", queryset=Place.objects.all())
    category = IdChoiceField(
        label="事项分类",
        queryset=Category.objects.filter(parent__isnull=False).select_related("parent"),
        required=False,
    )
    anonymous = forms.BooleanField(label="匿名（仅限建议意见、检举控告）", required=False)
    petitioner_name = forms.CharField(label="信访人姓名", max_length=40, required=False)
    petitioner_id_number = forms.CharField(label="身份证号", max_length=30, required=False)
    petitioner_phone = forms.CharField(label="联系电话", max_length=30, required=False)
    petitioner_address = forms.CharField(label="住址", max_length=200, required=False)
    group_size = bounds.GROUP_SIZE.form_field(label="来访人数", initial=1)
    representatives = forms.CharField(
        label="集体访代表",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一人：姓名 身份证号 电话（最多5人）",
    )
    accused_unit = IdChoiceField(
        label="被反映单位",
        queryset=Unit.objects.all(),
        required=False,
        help_text="检举控告、举报、投诉类事项必填（或勾选“不涉及具体单位”）；该单位及其下属单位不能办理本事项，也看不到信访人",
    )
    other_accused_units = IdMultipleChoiceField(
        label="其他被反映单位", queryset=Unit.objects.all(), required=False
    )
    no_accused_unit = forms.BooleanField(
        label="不涉及具体单位（仅检举控告、举报、投诉类）", required=False
    )
    accused_person = forms.CharField(label="被反映人", max_length=60, required=False)
    attachments = forms.FileField(
        label="附件",
        required=False,
        widget=forms.ClearableFileInput(attrs={"allow_multiple_selected": True}),
    )
    repeat_of = forms.CharField(
        label="重复信访：原事项编号",
        max_length=40,
        required=False,
        help_text="同一信访人就同一事项再次反映时填写，系统将关联原事项而不新立事项",
    )

    def clean_repeat_of(self) -> Case | None:
        return self._case_by_number("repeat_of", "repeat_of")

    def clean(self) -> dict:
        data = super().clean()
        named = data.get("accused_unit") or data.get("other_accused_units")
        if data.get("kind") in CONFIDENTIAL_KINDS and not data.get("repeat_of"):
            if not named and not data.get("no_accused_unit"):
                self.add_error(
                    "accused_unit",
                    "检举控告、举报、投诉类事项须填写被反映单位，或勾选“不涉及具体单位”",
                )
            elif named and data.get("no_accused_unit"):
                self.add_error("no_accused_unit", "已填写被反映单位，不能同时勾选“不涉及具体单位”")
        return data

    def clean_representatives(self) -> list[dict]:
        reps = []
        for line in self.cleaned_data["representatives"].splitlines():
            parts = line.split()
            if not parts:
                continue
            reps.append(
                {
                    "name": parts[0],
                    "id_number": parts[1] if len(parts) > 1 else "",
                    "phone": parts[2] if len(parts) > 2 else "",
                }
            )
        return reps

    def clean_registered_at(self) -> dt.datetime:
        now = timezone.now()
        at = self.cleaned_data["registered_at"] or now
        if problem := bounds.registration_time_error(at, now):
            raise forms.ValidationError(problem, code="registered_at")
        return at

    def registration(
        self,
        *,
        office: Unit,
        attachments: Sequence[Any] = (),
        representatives: Sequence[Mapping[str, str]] | None = None,
    ) -> Registration:
        """The cleaned form as the value `case_register` takes (登记事项), registered at
        `office`. `representatives` replaces the form's lines (the JSON API gives a list)."""
        from xinfang.cases.registration import Petitioner, Registration  # see _case_by_number

        d = self.cleaned_data
        return Registration(
            office=office,
            channel=d["channel"],
            kind=d["kind"],
            title=d["title"],
            content=d["content"],
            place=d["place"],
            category=d["category"],
            petitioner=Petitioner(
                name=d["petitioner_name"],
                id_number=d["petitioner_id_number"],
                phone=d["petitioner_phone"],
                address=d["petitioner_address"],
                anonymous=d["anonymous"],
            ),
            group_size=d["group_size"],
            urgency=d["urgency"],
            representatives=d["representatives"] if representatives is None else representatives,
            accused_unit=d["accused_unit"],
            accused_person=d["accused_person"],
            other_accused_units=tuple(d["other_accused_units"]),
            no_accused_unit=d["no_accused_unit"],
            attachments=tuple(attachments),
            repeat_of=d["repeat_of"],
        )


# The input of each transition (a row of `workflow.ACTIONS` names its form). The JSON API
# derives its request bodies from these forms (`api.schemas.action_input`): declared once here.

TEXT_MAX = 5000  # a reason, an opinion, a report


def _outcome_field(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=Outcome.choices, widget=forms.RadioSelect)


def _text(label: str, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": rows})
    )


class RouteForm(UserForm):
    unit = IdChoiceField(label="主办单位", queryset=Unit.objects.all())
    mode = forms.ChoiceField(label="方式", choices=RouteMode.choices, initial=RouteMode.TRANSFER)
    co_units = IdMultipleChoiceField(label="协办单位", queryset=Unit.objects.all(), required=False)
    assign_days = forms.IntegerField(
        label="交办期限（天）", required=False, min_value=1, max_value=90
    )
    # 事项分类: saved on the matter with the route (采用 fills it), so `routing train` learns
    # the office's decisions; left empty, the matter keeps the category it has
    category = IdChoiceField(
        label="事项分类", queryset=Category.objects.select_related("parent"), required=False
    )
    note = forms.CharField(
        label="转交意见", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(UserForm):
    reason = _text("理由")


class DeclineForm(UserForm):
    reason = _text("不予受理理由")
    proper_channel = forms.CharField(label="应当通过的法定途径", max_length=200)


class NotAcceptAgainForm(UserForm):
    prior = forms.CharField(label="已终结的原事项编号", max_length=40)
    reason = _text("理由", 2)

    def clean_prior(self) -> Case:
        return self._case_by_number("prior", "prior")


class ExtendForm(UserForm):
    days = forms.IntegerField(label="延期天数", min_value=1, max_value=30)
    reason = _text("延期理由")


class ReplyForm(UserForm):
    outcome = _outcome_field("处理结果")
    text = _text("处理意见", 5)


class ReportForm(UserForm):
    text = _text("办结报告", 5)


class RateForm(UserForm):
    rating = forms.ChoiceField(label="评价", choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="意见", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoteForm(UserForm):
    note = _text("催办意见", 2)


class EmptyForm(UserForm):
    pass


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="查看理由", max_length=200, help_text="如：电话回访核实、送达文书。查看记录将留存备查"
    )


class AccusedForm(forms.Form):
    """记录/更正被反映单位."""

    units = IdMultipleChoiceField(label="被反映单位", queryset=Unit.objects.all(), required=False)
    no_unit = forms.BooleanField(label="不涉及具体单位", required=False)
    person = forms.CharField(label="被反映人", max_length=60, required=False)
    reason = forms.CharField(
        label="更正理由（更正已记录的单位时必填）", max_length=200, required=False
    )


CURSOR_INVALID = "翻页参数无效，请从第一页重新查看"


class QueueFilterForm(forms.Form):
    scope = forms.CharField(required=False)
    q = forms.CharField(label="关键词", required=False)
    state = forms.ChoiceField(
        label="状态", choices=[("", "全部状态"), *State.choices], required=False
    )
    due = forms.ChoiceField(
        label="时限",
        required=False,
        choices=[("", "全部时限"), ("due_soon", "即将到期"), ("overdue", "已超期")],
    )
    kind = forms.ChoiceField(
        label="类型", choices=[("", "全部类型"), *Kind.choices], required=False
    )
    channel = forms.ChoiceField(
        label="渠道", choices=[("", "全部渠道"), *Channel.choices], required=False
    )
    category = IdChoiceField(
        label="分类",
        queryset=Category.objects.select_related("parent"),
        required=False,
        empty_label="全部分类",
    )
    place = IdChoiceField(
        label="属地", queryset=Place.objects.all(), required=False, empty_label="全部属地"
    )
    date_from = forms.DateField(
        label="登记起", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="登记止", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    after = forms.CharField(required=False)

    def _clean_year(self, name: str):
        value = self.cleaned_data.get(name)
        if value and not 1900 <= value.year <= 2999:
            raise forms.ValidationError("日期超出范围（1900—2999年）")
        return value

    def clean_date_from(self):
        return self._clean_year("date_from")

    def clean_date_to(self):
        return self._clean_year("date_to")

    def clean_after(self) -> str:
        """The cursor as `selectors.queue_page` wrote it (µs since 1970 before the year 3000,
        then a row id): anything else is refused, not handed to the database (a 20-digit id
        overflows it)."""
        after = self.cleaned_data["after"].strip()
        if after and not bounds.fits_a_cursor(after):
            raise forms.ValidationError(CURSOR_INVALID, code="invalid_cursor")
        return after
