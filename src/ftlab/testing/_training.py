"""Conformance check for training observers (run over every registered Observer)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["check_observer"]

_HOOKS = ("on_train_start", "on_step_end", "on_eval_end", "on_epoch_end", "on_train_end")


def check_observer(observer: Any) -> None:
    """Check that ``observer`` honours the Observer contract.

    Delivers one event of each type (a short fake run: start, step, eval, epoch end, end) and
    checks that: it has at least one hook and every hook is callable; hooks return ``None`` or
    a StopRequest; the events are not mutated; a ``state_dict()`` (if any) is JSON-serialisable
    and round-trips through ``load_state_dict`` (then ``state_dict()`` is unchanged).

    Args:
        observer: the observer under test (its hooks run for real: give it temporary paths).

    Raises:
        AssertionError: naming the hook and the broken rule.
    """
    from ftlab.training import EpochEnd, EvalEnd, StepEnd, StopRequest, TrainEnd, TrainStart

    name = type(observer).__name__
    present = [h for h in _HOOKS if hasattr(observer, h)]
    assert present, f"{name} has none of the observer hooks {_HOOKS}"
    for hook in present:
        assert callable(getattr(observer, hook)), f"{name}.{hook} is not callable"

    events = [
        ("on_train_start", TrainStart(total_steps=2, steps_per_epoch=2, epochs=1,
                                      resumed_from_step=None, hparams={"lr": 0.1})),
        ("on_step_end", StepEnd(step=1, epoch=0, loss=0.5, lr=0.1, grad_norm=1.0, examples=4,
                                tokens=20, padded_tokens=24, seconds=0.01)),
        ("on_eval_end", EvalEnd(step=1, epoch=0, metrics={"accuracy": 0.5, "loss": 0.7})),
        ("on_step_end", StepEnd(step=2, epoch=0, loss=0.4, lr=0.1, grad_norm=0.9, examples=4,
                                tokens=18, padded_tokens=24, seconds=0.01)),
        ("on_eval_end", EvalEnd(step=2, epoch=0, metrics={"accuracy": 0.75, "loss": 0.6})),
        ("on_epoch_end", EpochEnd(epoch=0, step=2)),
    ]
    state_mid: Any = None
    for hook, event in events:
        if hasattr(observer, hook):
            before = repr(event)
            answer = getattr(observer, hook)(event)
            assert answer is None or isinstance(answer, StopRequest), (
                f"{name}.{hook} returned {answer!r}; hooks may only return None or StopRequest"
            )
            if isinstance(answer, StopRequest):
                assert isinstance(answer.reason, str) and answer.reason, (
                    f"{name}.{hook} asked to stop without a reason"
                )
            assert repr(event) == before, f"{name}.{hook} mutated the event it received"
        has_state = callable(getattr(observer, "state_dict", None))
        if hook == "on_eval_end" and state_mid is None and has_state:
            state_mid = observer.state_dict()

    if callable(getattr(observer, "state_dict", None)):
        assert callable(getattr(observer, "load_state_dict", None)), (
            f"{name} has state_dict() but no load_state_dict(); both are needed for resume"
        )
        state = observer.state_dict()
        try:
            text = json.dumps(state)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{name}.state_dict() is not JSON-serialisable: {exc}") from exc
        observer.load_state_dict(json.loads(text))
        assert observer.state_dict() == state, (
            f"{name}: state_dict() -> load_state_dict() -> state_dict() changed the state"
        )
        if state_mid is not None:  # loading an older state must really restore it
            observer.load_state_dict(json.loads(json.dumps(state_mid)))
            assert observer.state_dict() == state_mid, (
                f"{name}.load_state_dict did not restore an earlier state"
            )
            observer.load_state_dict(json.loads(text))

    if hasattr(observer, "on_train_end"):
        answer = observer.on_train_end(TrainEnd(step=2, epoch=1, reason="check_observer",
                                                best_metric=0.75, best_step=2))
        assert answer is None or isinstance(answer, StopRequest), (
            f"{name}.on_train_end returned {answer!r}; hooks may only return None or StopRequest"
        )
