from django.apps import AppConfig


class ContributeConfig(AppConfig):
    name = "ctdc.web.contribute"
    label = "contribute"
