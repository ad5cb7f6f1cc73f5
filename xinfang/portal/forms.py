"""The citizen's forms: submit, look up, rate, ask for review. Messages in Chinese."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from xinfang.cases.models import ANONYMOUS_KINDS, HOTLINE_KINDS, Kind, Rating
from xinfang.cases.validators import clean_upload
from xinfang.lib.formfields import IdChoiceField
from xinfang.orgs.models import Place

MAX_FILES = 10
REQUIRED = "请填写此项"

KIND_CHOICES = [
    ("", "请选择"),
    ("信访事项", [(k.value, k.label) for k in Kind if k.value not in HOTLINE_KINDS]),
    ("12345热线诉求", [(k.value, k.label) for k in Kind if k.value in HOTLINE_KINDS]),
]
ANONYMOUS_LABELS = "、".join(Kind(k).label for k in Kind.values if k in ANONYMOUS_KINDS)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class SubmitForm(forms.Form):
    """网上信访: what the citizen asks, where, and how to reach them."""

    kind = forms.ChoiceField(
        label="事项类型", choices=KIND_CHOICES, error_messages={"required": "请选择事项类型"}
    )
    title = forms.CharField(label="标题", max_length=120, error_messages={"required": "请填写标题"})
    content = forms.CharField(
        label="诉求内容",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "请填写诉求内容", "max_length": "诉求内容不能超过20000字"},
    )
    place = IdChoiceField(
        label="问题发生地",
        queryset=Place.objects.order_by("code"),
        empty_label="请选择",
        error_messages={"required": "请选择问题发生地", "invalid_choice": "请选择问题发生地"},
    )
    attachments = MultipleFileField(
        label="附件", required=False, help_text=f"可选，最多{MAX_FILES}个文件"
    )
    anonymous = forms.BooleanField(
        label="匿名提交", required=False, help_text=f"仅{ANONYMOUS_LABELS}类事项可以匿名"
    )
    name = forms.CharField(label="姓名", max_length=40, required=False)
    phone = forms.CharField(
        label="手机号码",
        max_length=20,
        required=False,
        help_text="用于接收受理回执、查询码和办理进度短信",
    )
    email = forms.EmailField(
        label="电子邮箱", required=False, error_messages={"invalid": "电子邮箱格式不正确"}
    )
    address = forms.CharField(label="通讯地址", max_length=200, required=False)
    id_number = forms.CharField(label="身份证号码", max_length=18, required=False, help_text="可选")
    consent = forms.BooleanField(
        label="我已阅读并同意：本人提供的个人信息仅用于办理本信访事项和告知办理情况，依法保密",
        error_messages={"required": "请阅读并勾选同意个人信息使用说明后再提交"},
    )

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise ValidationError(f"附件不能超过{MAX_FILES}个")
        for upload in files:
            clean_upload(upload.name, upload.size, upload)
        return files

    def clean(self):
        data = super().clean()
        if not data.get("anonymous"):
            if not (data.get("name") or "").strip():
                self.add_error("name", "请填写姓名（或选择匿名提交）")
            if not (data.get("phone") or data.get("email")):
                self.add_error("phone", "请填写手机号码或电子邮箱，以便接收办理进度通知")
        return data


class TrackForm(forms.Form):
    number = forms.CharField(
        label="事项编号", max_length=40, error_messages={"required": "请填写事项编号"}
    )
    code = forms.CharField(
        label="查询码",
        max_length=40,
        error_messages={"required": "请填写查询码"},
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class RateForm(forms.Form):
    rating = forms.ChoiceField(
        label="评价",
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "请选择满意、基本满意或不满意",
            "invalid_choice": "请选择满意、基本满意或不满意",
        },
    )
    comment = forms.CharField(
        label="意见建议", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label="请求和理由",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写请求和理由"},
    )
