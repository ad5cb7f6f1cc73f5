from django.contrib import admin

from xinfang.backlog import models


@admin.register(models.BacklogRule)
class BacklogRuleAdmin(admin.ModelAdmin):
    list_display = ["kind", "threshold", "active"]
    list_editable = ["threshold", "active"]


@admin.register(models.BacklogCase)
class BacklogCaseAdmin(admin.ModelAdmin):
    list_display = ["case", "unit", "owner", "status", "flag_rule", "flagged_at"]
    list_filter = ["status", "flag_rule"]
    raw_id_fields = ["case", "owner", "flagged_by", "closed_by", "unit"]
    search_fields = ["case__number"]


@admin.register(models.ScreeningRound)
class ScreeningRoundAdmin(admin.ModelAdmin):
    list_display = ["name", "office", "period_start", "period_end"]
