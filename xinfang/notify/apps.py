from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "xinfang.notify"
    label = "notify"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from xinfang.cases.signals import event_recorded
        from xinfang.notify.services import on_event_recorded

        event_recorded.connect(on_event_recorded, dispatch_uid="notify.on_event_recorded")
