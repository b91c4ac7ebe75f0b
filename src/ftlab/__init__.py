"""ftlab: fine-tune, tune and stress-test text classifiers the careful way.

``import ftlab`` is cheap: heavy optional dependencies load lazily where they are used.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
