"""Units (a tree), places (行政区划), staff users with roles, and the dispatch catalogue (派单目录)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction

MOVE_ONLY_BY_SERVICE = "单位的上级单位不能在这里直接修改，请使用“调整上级单位（机构改革）”，其下级单位会随之调整，并留下记录。"


class Place(models.Model):
    """A place in the administrative division tree (行政区划)."""

    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An organ or unit: the petition office, a department, a town, a school.

    `path` is the chain of ids from the root ("/1/4/9/"), so a whole subtree is one
    indexed prefix query.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "市级"
        COUNTY = "county", "县级"
        TOWN = "town", "乡镇（街道）"

    class Kind(models.TextChoices):
        GOVERNMENT = "government", "人民政府"
        PETITION_OFFICE = "petition_office", "信访工作机构"
        DEPARTMENT = "department", "职能部门"
        TOWN = "town", "乡镇（街道）"
        SCHOOL = "school", "学校"
        POLITICAL_LEGAL = "political_legal", "政法机关"
        OTHER = "other", "其他"

    name = models.CharField("名称", max_length=80)
    code = models.CharField("单位代码", max_length=20, unique=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    kind = models.CharField("类别", max_length=20, choices=Kind.choices)
    place = models.ForeignKey(
        Place, verbose_name="所在区划", null=True, blank=True, on_delete=models.PROTECT
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        """A new unit gets its path under its parent. An existing unit keeps its parent and
        path: only `orgs.services.unit_move` changes them, for the whole subtree at once."""
        if self._state.adding:
            with transaction.atomic():  # the other processes hear of the unit once it has its path
                super().save(*args, **kwargs)
                parent_path = (
                    Unit.objects.values_list("path", flat=True).get(pk=self.parent_id)
                    if self.parent_id
                    else "/"
                )
                self.path = f"{parent_path}{self.pk}/"
                Unit.objects.filter(pk=self.pk).update(path=self.path)
            return
        stored = Unit.objects.filter(pk=self.pk).values_list("parent_id", "path").first()
        if stored is None:  # deleted meanwhile: let Django say so as it would
            super().save(*args, **kwargs)
            return
        if stored[0] != self.parent_id:
            raise ValidationError(MOVE_ONLY_BY_SERVICE, code="unit_move")
        # Never write back `parent` or `path` from memory: a copy loaded before a move holds old ones.
        fields = kwargs.pop("update_fields", None)
        if fields is None:
            fields = [f.name for f in self._meta.concrete_fields if not f.primary_key]
        kwargs["update_fields"] = [f for f in fields if f not in ("parent", "parent_id", "path")]
        self.path = stored[1]
        if kwargs["update_fields"]:
            super().save(*args, **kwargs)

    @property
    def is_petition_office(self) -> bool:
        return self.kind == self.Kind.PETITION_OFFICE

    def superior(self) -> Unit | None:
        """The organ one level above, which reviews (复查) this unit's decisions."""
        return self.parent


class UnitMove(models.Model):
    """Audit: a unit moved under another superior (机构改革), with its whole subtree. Written only
    by `orgs.services.unit_move`; never changed afterwards."""

    unit = models.ForeignKey(
        Unit, verbose_name="单位", on_delete=models.PROTECT, related_name="moves"
    )
    old_parent = models.ForeignKey(
        Unit,
        verbose_name="原上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_parent = models.ForeignKey(
        Unit,
        verbose_name="新上级单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_path = models.CharField("原路径", max_length=255)
    new_path = models.CharField("新路径", max_length=255)
    subtree_size = models.PositiveIntegerField("随之调整的单位数", default=1)
    by = models.ForeignKey("User", verbose_name="操作人", null=True, on_delete=models.PROTECT)
    reason = models.CharField("调整理由", max_length=200)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "上级单位调整记录"
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.unit}：{self.old_parent or '（无）'} → {self.new_parent or '（无）'}"


class Role(models.TextChoices):
    """Staff roles. Citizens never log in: they follow their matter with a query code."""

    CLERK = "clerk", "登记员"
    OFFICER = "officer", "经办人"
    HEAD = "head", "单位负责人"
    SUPERVISOR = "supervisor", "督查督办"
    ADMIN = "admin", "系统管理员"


class User(AbstractUser):
    """A member of staff, working in one unit with one role."""

    unit = models.ForeignKey(
        Unit, verbose_name="所在单位", null=True, blank=True, on_delete=models.PROTECT
    )
    role = models.CharField("角色", max_length=12, choices=Role.choices, default=Role.OFFICER)
    display_name = models.CharField("姓名", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return self.display_name or self.username


class Category(models.Model):
    """A subject category (事项分类) used for dispatch and statistics, two levels deep."""

    code = models.CharField("分类代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = verbose_name_plural = "事项分类"
        ordering = ["code"]

    def __str__(self) -> str:
        parent = self.parent
        return f"{parent.name}/{self.name}" if parent else self.name


class DispatchRule(models.Model):
    """One line of the dispatch catalogue (派单目录): this category in this place goes to this unit.

    A rule without a place applies everywhere the more specific rules do not.
    """

    category = models.ForeignKey(Category, verbose_name="事项分类", on_delete=models.CASCADE)
    place = models.ForeignKey(
        Place, verbose_name="区划", null=True, blank=True, on_delete=models.CASCADE
    )
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT)

    class Meta:
        verbose_name = verbose_name_plural = "派单目录"
        constraints = [
            models.UniqueConstraint(fields=["category", "place"], name="dispatch_rule_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category} @ {self.place or '全域'} → {self.unit}"


class PersonalDataView(models.Model):
    """Audit log: who saw a petitioner's full personal data, when, and for which matter."""

    user = models.ForeignKey(User, verbose_name="查看人", on_delete=models.PROTECT)
    case = models.ForeignKey("cases.Case", verbose_name="事项", on_delete=models.CASCADE)
    fields = models.CharField("查看字段", max_length=100)
    purpose = models.CharField("途径", max_length=40, default="detail")
    reason = models.CharField("查看理由", max_length=200, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "个人信息查看记录"
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.user_id} 查看 {self.case_id} {self.fields}"


class LoginLock(models.Model):
    """登录限制: failed staff logins counted per account and per client address (一行一个).

    `failures` counts within the window that began at `window_started_at`; reaching the limit
    sets `locked_until`, and until then every login of that account (or from that address) is
    refused, the right password too. The administrator sees the rows in the admin and can
    clear a lock. An account is kept as a hash of the name typed (`key`); `label` names it
    only when such an account exists, so a password typed into the name field is not kept.
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", "账号"
        ADDRESS = "address", "客户端地址"

    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    key = models.CharField("键", max_length=64)
    label = models.CharField("账号或地址", max_length=150)
    failures = models.PositiveIntegerField("窗口内失败次数", default=0)
    window_started_at = models.DateTimeField("计数开始时间")
    last_failure_at = models.DateTimeField("最近失败时间")
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "登录锁定"
        ordering = ["-last_failure_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="login_lock_once_per_key")
        ]
        indexes = [models.Index(fields=["last_failure_at"], name="login_lock_last")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}"
