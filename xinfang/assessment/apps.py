from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "xinfang.assessment"
    label = "assessment"
    verbose_name = "考核与责任追究"
