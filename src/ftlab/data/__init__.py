"""Data sources, splits and checks."""

from ftlab.data._example import Example

__all__ = ["Example"]
