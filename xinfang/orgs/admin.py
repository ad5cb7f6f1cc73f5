from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from xinfang.orgs import throttle
from xinfang.orgs.forms import AdminLoginForm
from xinfang.orgs.models import (
    Category,
    DispatchRule,
    LoginLock,
    PersonalDataView,
    Place,
    Unit,
    UnitMove,
    User,
)
from xinfang.orgs.services import unit_move

MOVE_TITLE = "调整上级单位（机构改革）"


class UnitMoveForm(forms.Form):
    new_parent = forms.ModelChoiceField(
        label="新上级单位",
        queryset=Unit.objects.all(),
        required=False,
        empty_label="（无，作为顶级单位）",
    )
    reason = forms.CharField(
        label="调整理由",
        max_length=200,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="如机构改革的文件名称和文号。",
    )

    def __init__(self, *args, unit: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        # The unit itself and its own sub-units cannot be its new superior (the service checks too).
        self.fields["new_parent"].queryset = Unit.objects.exclude(path__startswith=unit.path)


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ("username", "display_name", "unit", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("username", "display_name")
    fieldsets = (*UserAdmin.fieldsets, ("岗位", {"fields": ("display_name", "unit", "role")}))
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("岗位", {"fields": ("display_name", "unit", "role")}),
    )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    """A new unit chooses its parent; an existing one changes it only through `unit_move`
    (机构改革), which moves its whole subtree and records the move."""

    list_display = ("name", "code", "level", "kind", "parent", "place")
    list_filter = ("level", "kind")
    search_fields = ("name", "code")
    actions = ("move_unit",)

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return (*fields, "parent", "move_link") if obj is not None else fields

    @admin.display(description="上级单位调整")
    def move_link(self, obj: Unit) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orgs_unit_move", args=[obj.pk]), MOVE_TITLE
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.move_view)
        return [path("<int:object_id>/move/", view, name="orgs_unit_move"), *super().get_urls()]

    @admin.action(description=MOVE_TITLE, permissions=["change"])
    def move_unit(self, request, queryset):
        units = list(queryset[:2])
        if len(units) != 1:
            self.message_user(
                request, "一次只能调整一个单位的上级单位，请只选择一个单位。", messages.WARNING
            )
            return None
        return redirect("admin:orgs_unit_move", units[0].pk)

    def move_view(self, request, object_id: int):
        unit = get_object_or_404(Unit.objects.select_related("parent"), pk=object_id)
        if not self.has_change_permission(request, unit):
            raise PermissionDenied
        form = UnitMoveForm(request.POST or None, unit=unit)
        if request.method == "POST" and form.is_valid():
            try:
                move = unit_move(
                    unit=unit,
                    new_parent=form.cleaned_data["new_parent"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                self.message_user(
                    request,
                    f"已将“{unit}”调整至“{move.new_parent or '（顶级）'}”之下，"
                    f"连同下级单位共{move.subtree_size}个单位。",
                    messages.SUCCESS,
                )
                return redirect("admin:orgs_unit_change", unit.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "unit": unit,
            "below": Unit.objects.filter(path__startswith=unit.path).count() - 1,
            "title": MOVE_TITLE,
        }
        return TemplateResponse(request, "admin/orgs/unit/move.html", context)


@admin.register(UnitMove)
class UnitMoveAdmin(admin.ModelAdmin):
    """上级单位调整记录: written only by the move; nobody edits or deletes it."""

    list_display = ("at", "unit", "old_parent", "new_parent", "subtree_size", "by", "reason")
    search_fields = ("unit__name", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent")
    search_fields = ("name", "code")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent")
    search_fields = ("name", "code")


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "place", "unit")
    list_filter = ("unit",)
    autocomplete_fields = ("category", "place", "unit")


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(admin.ModelAdmin):
    """The audit log is read-only: nobody edits or deletes who looked at what."""

    list_display = ("at", "user", "case", "fields", "purpose")
    list_filter = ("purpose",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The admin's own login page counts failures against the same limits as /login/.
admin.site.login_form = AdminLoginForm


class LockedNow(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return (("yes", "锁定中"), ("no", "未锁定"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=now)
        return queryset


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    """登录锁定: who is locked out of logging in and until when; the administrator clears it."""

    list_display = ("label", "kind", "failures", "last_failure_at", "locked_until", "is_locked")
    list_filter = (LockedNow, "kind")
    search_fields = ("label",)
    actions = ["unlock"]
    readonly_fields = (
        "kind",
        "label",
        "failures",
        "window_started_at",
        "last_failure_at",
        "locked_until",
    )
    exclude = ("key",)

    @admin.display(description="锁定中", boolean=True)
    def is_locked(self, obj: LoginLock) -> bool:
        return obj.locked_until is not None and obj.locked_until > timezone.now()

    @admin.action(description="解除锁定")
    def unlock(self, request, queryset):
        done = throttle.login_unlock(ids=list(queryset.values_list("id", flat=True)))
        messages.success(request, f"已解除 {done} 项登录锁定")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
