"""System checks that keep a production install from starting unsafely.

Production is DEBUG off and CTDC_DEMO off. There, `SECRET_KEY`, `CTDC_IDENTITY_KEY` and `CTDC_UPLOAD_KEY` must come
from the environment or from files outside CTDC_DATA_DIR (`<NAME>_FILE`): a key generated into the data folder
travels with every backup of that folder, next to the encrypted uploads it opens and the identity hashes it lets
anyone test guesses against. `ctdc serve`, `ctdc worker` and the WSGI application run these checks before serving
(`refuse_unsafe_start`); `manage.py check` reports them too. A demo (`make demo` sets CTDC_DEMO) keeps generating
its keys.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from ctdc.web.config.env import SecretSource

TAG = "ctdc-production"


def production() -> bool:
    return not settings.DEBUG and not settings.CTDC_DEMO


def secret_problems(sources: list[SecretSource]) -> list[Error]:
    errors = []
    for source in sources:
        if not source.inside_data_dir():
            continue
        where = f"generated into {source.path}" if source.kind == "generated" else f"read from {source.path}"
        errors.append(Error(
            f"{source.name} is {where}, inside CTDC_DATA_DIR: a backup of the data folder would carry the key "
            "with what it protects. Production refuses to start this way.",
            hint=(f"Set {source.name} in the environment, or put it in a file outside CTDC_DATA_DIR and set "
                  f"{source.name}_FILE to that file's path. To keep an existing key (changing the identity key "
                  "makes earlier hashes unmatchable; changing the upload key makes kept raw files unreadable), move "
                  f"its file out of the data folder and point {source.name}_FILE at it. A demo sets CTDC_DEMO=true "
                  "instead (docs/security.md)."),
            id="ctdc.E001"))
    return errors


@register(Tags.security, TAG)
def production_secrets(app_configs=None, **kwargs) -> list[Error]:
    """ctdc.E001: in production, every key comes from the environment or a file outside CTDC_DATA_DIR."""
    if not production():
        return []
    return secret_problems(list(settings.CTDC_SECRET_SOURCES))


@register(Tags.security, TAG)
def plaintext_on_disk(app_configs=None, **kwargs) -> list[Warning]:
    """ctdc.W002: in production, uploads are decrypted for reading into a memory file system, not onto a disk."""
    from ctdc.web.submissions.rawstore import plaintext_dir

    if not production():
        return []
    folder, in_memory = plaintext_dir()
    if in_memory:
        return []
    return [Warning(
        f"Uploads are decrypted into {folder} while the worker reads them, and that folder is on a disk: a "
        "plaintext copy of each contributor's file lies there while it is processed (and after a crash).",
        hint="Set CTDC_PLAINTEXT_DIR to a tmpfs mount (on Linux /dev/shm is one; docs/settings.md).",
        id="ctdc.W002")]


def refuse_unsafe_start() -> None:
    """Raise ImproperlyConfigured with every production problem (for `ctdc serve`, `ctdc worker`, WSGI)."""
    errors = production_secrets()
    if errors:
        raise ImproperlyConfigured("ctdc refuses to start in production:\n" + "\n".join(
            f"  {e.id}: {e.msg}\n    {e.hint}" for e in errors))
