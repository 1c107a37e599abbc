"""Spanish number format of the portal: 19.855 (Django's own Spanish format groups with a no-break space)."""

THOUSAND_SEPARATOR = "."
DECIMAL_SEPARATOR = ","
NUMBER_GROUPING = 3
