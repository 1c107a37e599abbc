"""The ctdc data standard: dataset types, fields, code lists and disclosure roles, as versioned data files.

NOTE: pure Python; never import Django here (tests/test_core_is_pure.py enforces it).
"""

from ctdc.standard.model import Code, CodeList, Dataset, Field, Standard
from ctdc.standard.schema import load_standard

__all__ = ["Code", "CodeList", "Dataset", "Field", "Standard", "load_standard"]
