from django.apps import AppConfig


class CodebookConfig(AppConfig):
    name = "ctdc.web.codebook"
    label = "codebook"
    verbose_name = "Codebook"
