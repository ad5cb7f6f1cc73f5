"""Admin: 智能派单 — why it is paused (and resuming it), and the record of automatic routes."""

from django.contrib import admin, messages

from xinfang.routing import services
from xinfang.routing.models import AutoRoute, AutoRouting


@admin.register(AutoRouting)
class AutoRoutingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "paused_at", "reason", "resumed_at", "resumed_by"]
    readonly_fields = ["paused_at", "reason", "resumed_at", "resumed_by"]
    actions = ["resume"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="恢复智能派单（准确率自此重新统计）")
    def resume(self, request, queryset) -> None:
        services.auto_routing_resume(by=request.user)
        messages.success(request, "已恢复智能派单")


@admin.register(AutoRoute)
class AutoRouteAdmin(admin.ModelAdmin):
    list_display = ["case", "routed_at", "label", "confidence", "unit", "outcome", "decided_at"]
    list_filter = ["outcome", "model_version"]
    list_select_related = ["case", "unit"]
    readonly_fields = [f.name for f in AutoRoute._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
