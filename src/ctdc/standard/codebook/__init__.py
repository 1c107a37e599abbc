"""The codebook: the standard rendered for people and tools, and contributor templates generated from it.

    export(fmt, path)       fmt in EXPORT_FORMATS: html (printable, with a table of contents), csv and xlsx (data
                            dictionaries), json (the whole standard), datapackage (Frictionless Data Package: a
                            folder with datapackage.json and one header-only CSV per dataset type)
    template(fmt, path)     fmt in TEMPLATE_FORMATS: xlsx (one sheet per dataset type, drop-downs from the code
                            lists, README sheet) or xlsform (an ODK/KoboToolbox XLSForm for one dataset type)

Everything is generated from `load_standard()`; nothing here holds a field or a code of its own.
"""

from __future__ import annotations

from pathlib import Path

from ctdc.errors import CodebookError
from ctdc.standard.codebook.datapackage import write_datapackage
from ctdc.standard.codebook.dictionary import write_csv, write_json, write_xlsx
from ctdc.standard.codebook.html_export import write_html
from ctdc.standard.codebook.xlsform import write_xlsform
from ctdc.standard.codebook.xlsx_template import write_xlsx_template
from ctdc.standard.model import Standard
from ctdc.standard.schema import load_standard

EXPORT_FORMATS = ("html", "csv", "xlsx", "json", "datapackage")
TEMPLATE_FORMATS = ("xlsx", "xlsform")
LANGS = ("en", "fr", "es")

__all__ = ["EXPORT_FORMATS", "TEMPLATE_FORMATS", "export", "template"]


def export(fmt: str, path: Path, *, lang: str = "en", standard: Standard | None = None) -> Path:
    """Write the codebook in format `fmt` to `path` (a folder for `datapackage`) and return the path written."""
    std = standard or load_standard()
    path = Path(path)
    if lang not in LANGS:
        raise CodebookError(f"Unknown language {lang!r}; use one of {', '.join(LANGS)}.", {"lang": lang})
    if fmt == "html":
        write_html(std, path, lang=lang)
    elif fmt == "csv":
        write_csv(std, path)
    elif fmt == "xlsx":
        write_xlsx(std, path)
    elif fmt == "json":
        write_json(std, path)
    elif fmt == "datapackage":
        return write_datapackage(std, path)
    else:
        raise CodebookError(
            f"Unknown codebook format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.", {"format": fmt}
        )
    return path


def template(
    fmt: str,
    path: Path,
    *,
    datasets: tuple[str, ...] = (),
    lang: str = "en",
    standard: Standard | None = None,
) -> Path:
    """Write a contributor template. `datasets` limits it to some dataset types (xlsform: exactly one)."""
    std = standard or load_standard()
    names = datasets or tuple(std.datasets)
    for name in names:
        std.dataset(name)  # raises CodebookError naming the known types
    if fmt == "xlsx":
        write_xlsx_template(std, Path(path), names, lang=lang)
    elif fmt == "xlsform":
        if len(names) != 1:
            raise CodebookError(
                "An XLSForm covers one dataset type: pass exactly one --dataset.", {"datasets": names}
            )
        write_xlsform(std, Path(path), names[0])
    else:
        raise CodebookError(
            f"Unknown template format {fmt!r}; use one of {', '.join(TEMPLATE_FORMATS)}.", {"format": fmt}
        )
    return Path(path)
