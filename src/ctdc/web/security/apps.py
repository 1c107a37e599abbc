from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "ctdc.web.security"
    label = "security"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ctdc.web.security import checks, signals  # noqa: F401  (registers the checks and signal receivers)
