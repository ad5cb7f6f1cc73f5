from django.contrib import admin

from xinfang.assessment.models import Adjustment, Assessment, AssessmentLine, Indicator, Scheme


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0


class AdjustmentInline(admin.TabularInline):
    model = Adjustment
    extra = 0


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "urge_response_days", "updated_at")
    inlines = [IndicatorInline, AdjustmentInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # assessments keep pointing at their scheme (and freeze a copy of it)


class LineInline(admin.TabularInline):
    model = AssessmentLine
    fields = ("unit", "has_data", "indicator_score", "deductions", "credits", "total", "rank")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ("__str__", "status", "computed_by", "computed_at", "published_at")
    list_filter = ("status",)
    inlines = [LineInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # computed, reviewed and published only through the services

    def has_add_permission(self, request) -> bool:
        return False
