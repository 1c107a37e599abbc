"""Reads on the harmonized store."""

from __future__ import annotations

import polars as pl

from ctdc.standard import load_standard
from ctdc.web.cases.models import Victim


def victims_frame() -> pl.DataFrame:
    """Every record of the central repository as a polars frame of the standard's stored fields.

    One SELECT, so the frame is a consistent snapshot even while submissions are being approved.
    """
    types = {"integer": pl.Int64, "boolean": pl.Boolean}
    stored = load_standard().dataset("victims").stored_fields
    fields = [f.name for f in stored]
    rows = list(Victim.objects.order_by("pk").values_list(*fields))
    schema = {f.name: types.get(f.type, pl.String) for f in stored}
    return pl.DataFrame(rows, schema=schema, orient="row")
