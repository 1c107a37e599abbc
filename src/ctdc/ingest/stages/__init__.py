"""The stages of the intake pipeline, in the order `ctdc.ingest.pipeline` runs them on each piece of a file:

1. `columns`: resolve the mapping against the file's header (which source columns feed which field; the record
   id and key columns; a file missing what every record needs is refused here).
2. `typed` (with `flag_groups`): type and normalise every mapped field, one distinct value at a time.
3. `derive`: fields derived from others by the standard's rules (age, age band, majority status, years, coarser
   codes, regions, constants).
4. `checks`: cross-field checks, the source's own rules, required fields, references.
5. `flagged`: every flagged cell into a problem row, worded from the registry (`ctdc.ingest.problems`).

and once on the whole file:

6. `records`: identity, duplicates and conflicts, the accepted / quarantined split, keyed hashes, the report.
7. `linked`: one result for a file read as several linked dataset types.

Each stage adds typed columns and problem flags to one `Builder` (`builder`); nothing loops over rows.

NOTE: pure Python on polars, like all of ctdc.ingest: never import Django here.
"""
