"""ctdc: collaborative, privacy-preserving human-trafficking case data.

Core packages (`standard`, `ingest`, `privacy`, `release`, `fixtures`) are plain Python and never import
Django; `web` is the Django shell and `cli` the `ctdc` command.
"""

__version__ = "0.1.0"
