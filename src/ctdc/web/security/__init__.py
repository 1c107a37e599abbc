"""Protections that span the site: the production start-up check, upload limits, rate limits."""
