"""The ctdc data standard: dataset types, fields, code lists and disclosure roles, as versioned data files.

NOTE: pure Python; never import Django here (tests/test_core_is_pure.py enforces it).
"""

from ctdc.standard.schema import CodeList, Dataset, Field, Standard, load_standard

__all__ = ["CodeList", "Dataset", "Field", "Standard", "load_standard"]
