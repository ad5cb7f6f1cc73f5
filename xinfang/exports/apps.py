from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "xinfang.exports"
    label = "exports"
    verbose_name = "大批量导出"
