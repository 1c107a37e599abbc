"""Minimal Django settings to test the codebook app on its own (`pytest --ds ctdc.web.codebook.tests.settings`).

Under the project's own test settings the tests run unchanged: they add the app and its URLs themselves.
"""

SECRET_KEY = "codebook-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.staticfiles", "ctdc.web.codebook"]
ROOT_URLCONF = "ctdc.web.codebook.tests.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
USE_TZ = True
