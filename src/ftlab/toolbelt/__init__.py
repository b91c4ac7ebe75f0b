"""The practitioner's toolbelt: quick checks and probes to run before a long job.

Batch size and learning rate: :func:`find_batch_size` (largest batch or token budget that fits
in memory, with gradient-accumulation and learning-rate advice) and :func:`lr_range_test` /
:func:`find_lr` (the learning-rate range test, model and optimizer restored exactly).

Sanity checks: :func:`check_setup` (overfit one batch, initial loss, gradient reach, input
dependence, label leakage, data checks, batch fit) and :func:`gradcheck` (autograd gradients
against finite differences, for custom modules).
"""

from ftlab.toolbelt._batch_size import (
    BatchSizeResult,
    ProbeRecord,
    accumulation_plan,
    apply_margin,
    find_batch_size,
    largest_fitting,
    scale_lr,
    worst_case_batch,
)
from ftlab.toolbelt._config_write import WrittenConfig, write_config_values
from ftlab.toolbelt._gradcheck import (
    GradcheckRow,
    format_gradcheck,
    gradcheck,
    gradcheck_target,
)
from ftlab.toolbelt._lr_finder import LRRangeResult, find_lr, lr_range_test
from ftlab.toolbelt._setup_checks import (
    CHECKS,
    CheckResult,
    check_setup,
    default_train_step,
    format_checks,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "GradcheckRow",
    "check_setup",
    "default_train_step",
    "format_checks",
    "format_gradcheck",
    "gradcheck",
    "gradcheck_target",
    "BatchSizeResult",
    "LRRangeResult",
    "ProbeRecord",
    "WrittenConfig",
    "accumulation_plan",
    "apply_margin",
    "find_batch_size",
    "find_lr",
    "largest_fitting",
    "lr_range_test",
    "scale_lr",
    "worst_case_batch",
    "write_config_values",
]
