"""One exception hierarchy for the whole of ctdc.

Every error carries a plain `message` a data steward can act on and an `extra` dict of structured context
(file, row, column, parameter). Callers catch by type, never by message text. Messages never carry the value of
a direct identifier (name, contact, exact birth date, narrative).

Row-level data problems are not exceptions: they go into a `ValidationReport` (see `ctdc.ingest.report`).
Exceptions are for failures that stop the work.
"""

from __future__ import annotations

from typing import Any


class CtdcError(Exception):
    """Root of every ctdc error: a message for people and `extra` for programs."""

    code = "ctdc-error"

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = dict(extra or {})

    def as_dict(self) -> dict[str, Any]:
        """The one error shape used by the CLI's `--json` and the API: `{code, message, extra}`."""
        return {"code": self.code, "message": self.message, "extra": self.extra}


class CodebookError(CtdcError):
    """The standard's data files are missing, malformed or inconsistent."""

    code = "codebook-error"


class IngestError(CtdcError):
    """A contributor file cannot be read at all (wrong type, unreadable encoding, no header)."""

    code = "ingest-error"


class NotATable(IngestError):
    """The file is not a table at all (a PDF, an image, a Word document, a binary file): `extra["looks_like"]`
    names what it seems to be. Its code stays `ingest-error`, as before the distinction was made."""


class UploadTooLarge(IngestError):
    """A file is refused for its size before (or instead of) being read: too many bytes, too many rows, or a
    spreadsheet whose zip parts declare or inflate to too much (`extra["reason"]`: `file-too-large`, `too-many-rows`,
    `unpacked-too-large`, `too-many-entries`, `zip-bomb`; `extra["limit"]` is the limit passed)."""

    code = "upload-too-large"


class AgreementMissing(CtdcError):
    """Files are refused from an organisation whose data-sharing agreement is not recorded (issue 16;
    CTDC_REQUIRE_AGREEMENT). `extra["organisation"]` is its slug."""

    code = "agreement-missing"


class MappingNeeded(IngestError):
    """Detection found a preset, but it would ignore columns that look like fields of the standard (or read too
    few of the file's columns): a person should check a suggested mapping first. `extra["missed"]` lists the
    columns with the field each seems to hold."""

    code = "mapping-needed"


class MappingError(IngestError):
    """A mapping spec is malformed or points at fields the standard does not have."""

    code = "mapping-error"


class PrivacyError(CtdcError):
    """A privacy guarantee cannot be given; nothing is released."""

    code = "privacy-error"


class BudgetExceeded(PrivacyError):
    """A differentially private computation would spend more than the configured budget."""

    code = "budget-exceeded"


class KAnonymityNotMet(PrivacyError):
    """An output still has quasi-identifier combinations rarer than k."""

    code = "k-anonymity-not-met"


class MechanismNotVetted(PrivacyError):
    """An experimental mechanism was asked for without the explicit opt-in."""

    code = "mechanism-not-vetted"


class EmptyData(PrivacyError):
    """The privacy engine was given a table with no records (or no columns) to protect."""

    code = "empty-data"


class InvalidPrivacyParameter(PrivacyError):
    """A privacy parameter (k, epsilon, delta, length, resolution) is outside the range the mechanism supports."""

    code = "invalid-privacy-parameter"


class NoPublicDomain(PrivacyError):
    """A column has no public list of values (code list, declared range, domain file): DP cannot release it."""

    code = "no-public-domain"


class InvalidDomain(PrivacyError):
    """A domain file (or declared range) is unreadable or malformed."""

    code = "invalid-domain"


class ReleaseError(CtdcError):
    """A release cannot be built, verified or published."""

    code = "release-error"


class DisclosureCheckFailed(ReleaseError):
    """A release failed one of its own disclosure checks and must not be published."""

    code = "disclosure-check-failed"


class BuildCancelled(ReleaseError):
    """A steward cancelled a release build; it stopped at its next stage and wrote no release."""

    code = "build-cancelled"


class BackupError(CtdcError):
    """A backup cannot be written, or cannot be restored here (damaged, another schema, a target not empty)."""

    code = "backup-error"
