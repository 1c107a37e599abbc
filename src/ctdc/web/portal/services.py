"""Writes of the portal: the "used in" list of a release."""

from __future__ import annotations

from datetime import date as Date

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ctdc.errors import CtdcError
from ctdc.web.portal.models import ReleaseUse
from ctdc.web.releases.models import Release


class ReleaseUseInvalid(CtdcError):
    code = "release-use-invalid"


def release_use_add(*, release: str, title: str, authors: str, link: str, date: str) -> ReleaseUse:
    """Add a publication citing `release` ("<dataset> <version>"), checking every field first."""
    dataset, _, version = release.partition(" ")
    if not Release.objects.filter(dataset=dataset, version=version, status=Release.Status.PUBLISHED).exists():
        raise ReleaseUseInvalid("Choose a published release.", {"release": release})
    title, authors, link = title.strip(), authors.strip(), link.strip()
    if not title or not authors:
        raise ReleaseUseInvalid("A publication needs a title and its authors.", {})
    if len(title) > 300 or len(authors) > 300:
        raise ReleaseUseInvalid("Title and authors are limited to 300 characters each.", {})
    try:
        URLValidator(schemes=["http", "https"])(link)
    except ValidationError:
        raise ReleaseUseInvalid("The link must be a web address (http or https).", {"link": link[:100]}) from None
    try:
        day = Date.fromisoformat(date)
    except ValueError:
        raise ReleaseUseInvalid("The date must be a date such as 2026-03-31.", {"date": date[:20]}) from None
    return ReleaseUse.objects.create(dataset=dataset, version=version, title=title, authors=authors, link=link,
                                     date=day)
