from django.apps import AppConfig


class AnswersConfig(AppConfig):
    name = "xinfang.answers"
    label = "answers"
    verbose_name = "答复知识库"
