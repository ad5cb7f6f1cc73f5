from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "xinfang.routing"
    label = "routing"
    verbose_name = "智能分派"

    def ready(self) -> None:
        from xinfang.cases.signals import event_recorded
        from xinfang.routing.services import on_event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="routing.on_event_recorded")
