"""Training: the explicit ``fit`` loop, TrainState, typed events and observers, checkpoints.

Importing this package does not import optional trackers (mlflow, wandb) or transformers.
:mod:`distributed` holds the ``torch.distributed`` helpers (no-ops in a single process).
"""

from ftlab.training import _distributed as distributed
from ftlab.training._checkpoint import Checkpointer, observer_states
from ftlab.training._distributed import is_distributed, torchrun_world_size, world_size
from ftlab.training._early_stopping import EarlyStopping
from ftlab.training._env import collect_env, write_env_json
from ftlab.training._events import (
    EpochEnd,
    EvalEnd,
    Event,
    Observer,
    StepEnd,
    StopRequest,
    TrainEnd,
    TrainStart,
    notify,
)
from ftlab.training._loop import Precision, autocast_dtype, fit
from ftlab.training._optim import build_optimizer, param_groups_for_weight_decay
from ftlab.training._restore import (
    LoadedCheckpoint,
    checkpoint_name,
    find_resume_checkpoint,
    load_checkpoint,
    restore,
    retune_optimizer,
)
from ftlab.training._schedule import build_scheduler, resolve_warmup_steps
from ftlab.training._seed import rng_state, seed_everything, set_rng_state
from ftlab.training._state import TrainResult, TrainState
from ftlab.training._steps import StepPlan, plan_steps
from ftlab.training._time_budget import TimeBudget
from ftlab.training._threads import apply_threads, resolve_threads
from ftlab.training._trackers import (
    MLflowTracker,
    RunOutcome,
    TensorBoardTracker,
    WandbTracker,
    flatten,
)
from ftlab.training._tracking import JsonlTracker, ProgressObserver
from ftlab.training._validate import predict, run_validation

__all__ = [
    "Checkpointer",
    "EarlyStopping",
    "EpochEnd",
    "EvalEnd",
    "Event",
    "JsonlTracker",
    "LoadedCheckpoint",
    "MLflowTracker",
    "Observer",
    "Precision",
    "ProgressObserver",
    "StepEnd",
    "StepPlan",
    "StopRequest",
    "TensorBoardTracker",
    "TimeBudget",
    "TrainEnd",
    "RunOutcome",
    "TrainResult",
    "TrainStart",
    "TrainState",
    "WandbTracker",
    "apply_threads",
    "autocast_dtype",
    "build_optimizer",
    "build_scheduler",
    "collect_env",
    "distributed",
    "find_resume_checkpoint",
    "checkpoint_name",
    "fit",
    "flatten",
    "is_distributed",
    "load_checkpoint",
    "notify",
    "resolve_threads",
    "observer_states",
    "param_groups_for_weight_decay",
    "plan_steps",
    "predict",
    "resolve_warmup_steps",
    "restore",
    "retune_optimizer",
    "rng_state",
    "run_validation",
    "seed_everything",
    "set_rng_state",
    "torchrun_world_size",
    "world_size",
    "write_env_json",
]
