"""Conformance checks for ftlab's extension points.

Each check raises ``AssertionError`` with a clear message when an implementation breaks the
contract (shapes, determinism under a seed, state round-trip, no input mutation). ftlab's own
test suite runs them over every registered implementation; run them over your own too::

    from ftlab.testing import check_model
    check_model(MyModel(...), batch)
"""

from ftlab.testing._batching import check_batch_source, check_sampler
from ftlab.testing._data import check_reader
from ftlab.testing._evaluation import check_evaluation_report
from ftlab.testing._models import check_model
from ftlab.testing._preprocessing import check_tokenizer
from ftlab.report import check_report
from ftlab.testing._robustness import check_transform, check_transformed
from ftlab.testing._suites import check_suite
from ftlab.testing._training import check_observer
from ftlab.testing._transformer import check_transformer

__all__ = [
    "check_batch_source",
    "check_evaluation_report",
    "check_model",
    "check_observer",
    "check_reader",
    "check_report",
    "check_sampler",
    "check_suite",
    "check_tokenizer",
    "check_transform",
    "check_transformed",
    "check_transformer",
]
