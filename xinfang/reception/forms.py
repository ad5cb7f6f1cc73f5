"""Forms for leader reception. They parse; the services decide."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from xinfang.cases.models import Kind
from xinfang.lib import bounds
from xinfang.lib.formfields import IdChoiceField, IdMultipleChoiceField
from xinfang.orgs.models import Category, Place, Unit, User
from xinfang.reception import selectors
from xinfang.reception.models import ReceptionKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _leader_label(obj: User) -> str:
    return f"{obj}（{obj.unit}）" if obj.unit_id else str(obj)


class LeaderField(IdChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _leader_label(obj)


class LeadersField(IdMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return _leader_label(obj)


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields, or on the form when it has no such field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def split_names(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,，、;；]+", text or "") if part.strip()]


class RotaFillForm(forms.Form):
    start = forms.DateField(label="开始日期", widget=DATE)
    end = forms.DateField(label="结束日期", widget=DATE)
    leaders = LeadersField(
        label="接访领导（按顺序轮流）",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    names = forms.CharField(
        label="其他领导（非系统用户）",
        required=False,
        help_text="填写姓名，多人用“、”分隔",
        max_length=400,
    )

    def __init__(self, *args, office: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leaders"].queryset = selectors.leader_choices(office)

    def clean(self):
        data = super().clean()
        if not data.get("leaders") and not split_names(data.get("names", "")):
            raise ValidationError("请至少选择或填写一位接访领导")
        return data


class RotaDayForm(forms.Form):
    leader = LeaderField(label="接访领导", queryset=User.objects.none(), required=False)
    leader_name = forms.CharField(label="或填写领导姓名", max_length=40, required=False)
    leader_absent = forms.BooleanField(label="领导缺席（须安排替班）", required=False)
    substitute = LeaderField(label="替班领导", queryset=User.objects.none(), required=False)
    substitute_name = forms.CharField(label="或填写替班领导姓名", max_length=80, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)
    clear = forms.BooleanField(label="清空当天安排", required=False)

    def __init__(self, *args, office: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("leader", "substitute"):
            self.fields[name].queryset = selectors.leader_choices(office)


class RecordForm(forms.Form):
    held_at = forms.DateTimeField(label="接访时间", widget=DATETIME)
    kind = forms.ChoiceField(label="接访形式", choices=ReceptionKind.choices)
    leader = LeaderField(label="接访领导", queryset=User.objects.none(), required=False)
    leader_name = forms.CharField(label="或填写领导姓名", max_length=40, required=False)
    place = forms.CharField(label="接访地点", max_length=120, required=False)
    visitors = bounds.GROUP_SIZE.form_field(label="来访人数", initial=1)
    summary = forms.CharField(
        label="反映问题概述", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    case_numbers = forms.CharField(
        label="涉及的已有事项编号",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="每行一个事项编号；新事项在保存后登记",
    )

    def __init__(self, *args, office: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = selectors.leader_choices(office)


class LinkCaseForm(forms.Form):
    case_number = forms.CharField(label="事项编号", max_length=40)


class RegisterCaseForm(forms.Form):
    """A new matter raised at the reception: the same register, channel 来访."""

    kind = forms.ChoiceField(
        label="事项类型",
        choices=[
            (Kind.APPEAL, "申诉求决"),
            (Kind.SUGGESTION, "建议意见"),
            (Kind.ACCUSATION, "检举控告"),
        ],
    )
    title = forms.CharField(label="标题", max_length=120)
    content = forms.CharField(label="诉求内容", widget=forms.Textarea(attrs={"rows": 3}))
    place = IdChoiceField(label="问题属地", queryset=Place.objects.all())
    category = IdChoiceField(
        label="事项分类", queryset=Category.objects.select_related("parent"), required=False
    )
    petitioner_name = forms.CharField(label="信访人姓名", max_length=40)
    petitioner_phone = forms.CharField(label="联系电话", max_length=20, required=False)
    petitioner_id_number = forms.CharField(label="身份证号", max_length=18, required=False)
    petitioner_address = forms.CharField(label="住址", max_length=200, required=False)
    group_size = bounds.GROUP_SIZE.form_field(label="来访人数", initial=1)


class InstructionForm(forms.Form):
    text = forms.CharField(label="批示内容", widget=forms.Textarea(attrs={"rows": 3}))
    case = forms.ChoiceField(label="涉及事项", required=False)
    owner_unit = IdChoiceField(label="责任单位", queryset=Unit.objects.all(), required=False)
    owner_user = LeaderField(label="责任人", queryset=User.objects.none(), required=False)
    days = forms.IntegerField(
        label="期限（自然日）",
        min_value=1,
        max_value=365,
        required=False,
        help_text="不填则按默认期限；期满日为休息日的顺延",
    )
    deadline_date = forms.DateField(label="或指定办理期限", widget=DATE, required=False)

    def __init__(self, *args, record, **kwargs):
        """`record` comes with its matters prefetched, cases included (views._record_for)."""
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [("", "（不涉及具体事项）")] + [
            (str(m.case_id), m.case.number) for m in record.matters.all()
        ]
        root = record.office.parent or record.office
        self.fields["owner_unit"].queryset = Unit.objects.filter(path__startswith=root.path)
        self.fields["owner_user"].queryset = User.objects.filter(
            is_active=True, unit__path__startswith=root.path
        ).select_related("unit")


class CompleteForm(forms.Form):
    result = forms.CharField(label="落实结果", widget=forms.Textarea(attrs={"rows": 2}))


class SlotForm(forms.Form):
    date = forms.DateField(label="日期", widget=DATE)
    start = forms.TimeField(label="开始", widget=TIME)
    end = forms.TimeField(label="结束", widget=TIME)
    leader = LeaderField(label="接访领导", queryset=User.objects.none(), required=False)
    leader_name = forms.CharField(label="或填写领导姓名", max_length=40, required=False)
    place = forms.CharField(label="地点", max_length=120, required=False)
    capacity = forms.IntegerField(label="可约人数", min_value=1, max_value=200, initial=5)

    def __init__(self, *args, office: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = selectors.leader_choices(office)


class BookingForm(forms.Form):
    """The public booking form (预约领导接访): no login, phone-friendly."""

    slot = forms.TypedChoiceField(label="选择时段", coerce=int, widget=forms.RadioSelect)
    name = forms.CharField(label="姓名", max_length=40)
    phone = forms.CharField(
        label="联系电话",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    description = forms.CharField(
        label="反映的事项（简要）", max_length=500, widget=forms.Textarea(attrs={"rows": 4})
    )
    case_number = forms.CharField(label="已有事项编号（如有）", max_length=40, required=False)

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [
            (
                s.pk,
                f"{s.date:%m月%d日} {s.start:%H:%M}-{s.end:%H:%M} {s.office} "
                f"{s.leader_label}（余{s.places_left}个名额）",
            )
            for s in slots
        ]


class CancelBookingForm(forms.Form):
    reference = forms.CharField(label="预约号", max_length=16)
    phone = forms.CharField(
        label="预约时填写的联系电话",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
