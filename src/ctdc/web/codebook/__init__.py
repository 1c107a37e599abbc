"""`/codebook/`: the data standard's codebook in the portal: browsable, searchable, per-field pages, EN/FR/ES.

A thin shell over `ctdc.standard` (selectors.py reads it; views only render). Include with
`path("codebook/", include("ctdc.web.codebook.urls"))` and add `"ctdc.web.codebook"` to INSTALLED_APPS.
"""
