"""Typed training events and the Observer protocol: observers observe and may only ask to stop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "TrainStart",
    "StepEnd",
    "EvalEnd",
    "EpochEnd",
    "TrainEnd",
    "Event",
    "StopRequest",
    "Observer",
    "notify",
    "observer_keys",
]


@dataclass(frozen=True)
class TrainStart:
    """Emitted once before the first step (also when resuming).

    Attributes:
        total_steps: optimizer steps the run will take unless stopped early.
        steps_per_epoch: optimizer steps per epoch (micro-batches / grad_accum, rounded up).
        epochs: epochs requested.
        resumed_from_step: the checkpoint step resumed from, or ``None`` for a fresh run.
        hparams: the hyperparameters the caller passed to ``fit`` (for tracking).
    """

    total_steps: int
    steps_per_epoch: int
    epochs: int
    resumed_from_step: int | None
    hparams: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepEnd:
    """Emitted after each optimizer step.

    Attributes:
        step: optimizer steps done so far (1 after the first step).
        epoch: 0-based epoch of the step.
        loss: mean loss per example over the accumulation window.
        lr: learning rate used by the step (first param group).
        grad_norm: total gradient L2 norm before clipping.
        examples: examples in the window.
        tokens: real tokens in the window; padded_tokens: token slots including padding.
        seconds: wall time of the step (data wait excluded).
    """

    step: int
    epoch: int
    loss: float
    lr: float
    grad_norm: float
    examples: int
    tokens: int
    padded_tokens: int
    seconds: float


@dataclass(frozen=True)
class EvalEnd:
    """Emitted after each evaluation; ``metrics`` is read-only."""

    step: int
    epoch: int
    metrics: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))


@dataclass(frozen=True)
class EpochEnd:
    """Emitted when epoch ``epoch`` (0-based) is complete, after its evaluation."""

    epoch: int
    step: int


@dataclass(frozen=True)
class TrainEnd:
    """Emitted once when training stops, whatever the reason (also for a non-finite loss)."""

    step: int
    epoch: int
    reason: str
    best_metric: float | None
    best_step: int | None


Event = TrainStart | StepEnd | EvalEnd | EpochEnd | TrainEnd


@dataclass(frozen=True)
class StopRequest:
    """What an observer returns to ask ``fit`` to stop after the current step.

    Attributes:
        reason: why, recorded as the run's stop reason.
        final_eval: evaluate the final weights before stopping even when no evaluation is due
            (a run cut mid-epoch by a time budget still gets scored).
    """

    reason: str
    final_eval: bool = False


@runtime_checkable
class Observer(Protocol):
    """Receives typed events. Every hook is optional; each returns ``None`` or a StopRequest.

    An observer with state that must survive a resume also defines ``state_dict() -> dict``
    (JSON-serialisable) and ``load_state_dict(dict)``; checkpoints save it.
    """

    def on_train_start(self, event: TrainStart) -> StopRequest | None: ...

    def on_step_end(self, event: StepEnd) -> StopRequest | None: ...

    def on_eval_end(self, event: EvalEnd) -> StopRequest | None: ...

    def on_epoch_end(self, event: EpochEnd) -> StopRequest | None: ...

    def on_train_end(self, event: TrainEnd) -> StopRequest | None: ...


def _hook(observer: object, event: Event) -> Any:
    # dispatch on the event's type; an observer implements only the hooks it needs
    if isinstance(event, StepEnd):
        return getattr(observer, "on_step_end", None)
    if isinstance(event, EvalEnd):
        return getattr(observer, "on_eval_end", None)
    if isinstance(event, EpochEnd):
        return getattr(observer, "on_epoch_end", None)
    if isinstance(event, TrainStart):
        return getattr(observer, "on_train_start", None)
    if isinstance(event, TrainEnd):
        return getattr(observer, "on_train_end", None)
    raise TypeError(f"not a training event: {type(event).__name__}")


def notify(observers: Sequence[object], event: Event) -> StopRequest | None:
    """Call the matching hook of every observer (all of them, in order).

    Args:
        observers: observers; those without the hook are skipped.
        event: the event to deliver.

    Returns:
        The first StopRequest returned, or ``None``.

    Raises:
        TypeError: when a hook returns something other than ``None`` or a StopRequest.
    """
    first: StopRequest | None = None
    for observer in observers:
        hook = _hook(observer, event)
        if hook is None:
            continue
        answer = hook(event)
        if answer is None:
            continue
        if not isinstance(answer, StopRequest):
            raise TypeError(
                f"{type(observer).__name__}.{hook.__name__} returned {answer!r}; observer hooks "
                "may only return None or StopRequest(reason)"
            )
        first = first or answer
    return first


def observer_keys(observers: Sequence[object]) -> list[tuple[str, str, object]]:
    """``(stable name, position key, observer)`` for each observer.

    The stable name is the observer's ``state_key`` attribute when it has one, else its class
    name, with ``#2``, ``#3``, ... for repeats, so that adding or removing an observer (e.g. a
    tracker on resume) does not shift another's saved state. The position key
    ``"<position>:<ClassName>"`` is how checkpoints of earlier versions named it.
    """
    seen: dict[str, int] = {}
    out = []
    for i, obs in enumerate(observers):
        name = str(getattr(obs, "state_key", None) or type(obs).__name__)
        seen[name] = seen.get(name, 0) + 1
        key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        out.append((key, f"{i}:{type(obs).__name__}", obs))
    return out
