"""Batching: collate with dynamic padding, bucketed / token-budget samplers, imbalance handling."""

from ftlab.core import Batch, BatchSource, Encoded
from ftlab.batching._collate import collate
from ftlab.batching._loader import Loader, padding_stats
from ftlab.batching._sampler import BucketBatchSampler
from ftlab.batching._weights import WeightScheme, class_weights

__all__ = [
    "Batch",
    "BatchSource",
    "BucketBatchSampler",
    "Encoded",
    "Loader",
    "WeightScheme",
    "class_weights",
    "collate",
    "padding_stats",
]
