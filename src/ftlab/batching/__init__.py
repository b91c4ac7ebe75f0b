"""Batching: collate with dynamic padding, bucketed / token-budget samplers, imbalance handling."""

from ftlab.batching._batch import Batch, BatchSource, Encoded

__all__ = ["Batch", "BatchSource", "Encoded"]
