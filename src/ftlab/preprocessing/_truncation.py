"""Length budgets: truncate one id sequence or a pair of them."""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

from ftlab.errors import ConfigError

__all__ = ["truncate", "truncate_pair", "TruncationStrategy", "PairTruncationStrategy"]

TruncationStrategy = Literal["head", "tail", "head_tail"]
PairTruncationStrategy = Literal["longest_first", "only_first", "only_second"]
_T = TypeVar("_T")


def _check_strategy(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _check_length(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{name} must be an int >= 0, got {value!r}")
    return value


def truncate(
    ids: list[_T],
    max_length: int,
    strategy: TruncationStrategy = "head",
    head: int | None = None,
) -> list[_T]:
    """Cut ``ids`` to at most ``max_length`` items (a new list; the input is not changed).

    Args:
        ids: the sequence.
        max_length: the budget (>= 0).
        strategy: ``"head"`` keeps the first ``max_length``; ``"tail"`` the last;
            ``"head_tail"`` the first ``head`` and the last ``max_length - head`` (Sun et al.
            2019 kept 128 + 382 of 510 BERT tokens for long reviews).
        head: tokens kept from the start for ``"head_tail"``; default ``max_length // 4``.

    Returns:
        ``ids`` unchanged (copied) when short enough, else the kept items in their order.

    Raises:
        ConfigError: unknown strategy, negative ``max_length``, ``head`` outside
            ``[0, max_length]``.
    """
    _check_length("max_length", max_length)
    _check_strategy("truncation strategy", strategy, get_args(TruncationStrategy))
    if head is not None:
        _check_length("head", head)
        if head > max_length:
            raise ConfigError(
                f"head must be <= max_length for head_tail truncation, got head={head}, "
                f"max_length={max_length}; lower head or raise max_length"
            )
    if len(ids) <= max_length:
        return list(ids)
    if strategy == "head":
        return list(ids[:max_length])
    if strategy == "tail":
        return list(ids[len(ids) - max_length :])
    n_head = max_length // 4 if head is None else head
    n_tail = max_length - n_head
    return [*ids[:n_head], *ids[len(ids) - n_tail :]]


def _pair_lengths(
    na: int, nb: int, budget: int, strategy: PairTruncationStrategy
) -> tuple[int, int]:
    """Kept lengths ``(la, lb)`` with ``la + lb <= budget`` (both sides kept when possible)."""
    if na + nb <= budget:
        return na, nb
    if strategy == "longest_first":
        # Closed form of "drop one token from the longer side until it fits" (ties: from b).
        half_a, half_b = budget - budget // 2, budget // 2
        if na <= half_a:
            return na, budget - na
        if nb <= half_b:
            return budget - nb, nb
        return half_a, half_b
    # only_first / only_second: cut the named side, but keep one of its tokens when the budget
    # allows one per side; only if the other side alone is over budget is it cut too.
    first = strategy == "only_first"
    n_cut, n_keep = (na, nb) if first else (nb, na)
    reserve = 1 if (n_cut > 0 and budget >= 1 + (n_keep > 0)) else 0
    l_cut = min(n_cut, max(budget - n_keep, reserve))
    l_keep = min(n_keep, budget - l_cut)
    return (l_cut, l_keep) if first else (l_keep, l_cut)


def truncate_pair(
    a: list[_T],
    b: list[_T],
    max_length: int,
    strategy: PairTruncationStrategy = "longest_first",
    single_strategy: TruncationStrategy = "head",
    head: int | None = None,
) -> tuple[list[_T], list[_T]]:
    """Cut a pair so that ``len(a) + len(b) <= max_length`` (new lists; inputs not changed).

    Args:
        a: the first sequence.
        b: the second sequence.
        max_length: the joint budget (>= 0), special tokens already subtracted by the caller.
        strategy: ``"longest_first"`` removes from the longer side until the pair fits (ties
            from ``b``, like Hugging Face); ``"only_first"`` / ``"only_second"`` cut the named
            side, keeping one of its tokens when the budget allows one per side, and cut the
            other side only when it alone exceeds the budget.
        single_strategy: how each side is cut to its share (see :func:`truncate`).
        head: ``head`` for ``single_strategy="head_tail"``, clamped to each side's share.

    Returns:
        ``(a, b)`` truncated; both non-empty whenever both inputs are and ``max_length >= 2``.

    Raises:
        ConfigError: unknown strategy or negative lengths.
    """
    _check_length("max_length", max_length)
    _check_strategy("pair truncation strategy", strategy, get_args(PairTruncationStrategy))
    _check_strategy("truncation strategy", single_strategy, get_args(TruncationStrategy))
    if head is not None:
        _check_length("head", head)
    la, lb = _pair_lengths(len(a), len(b), max_length, strategy)

    def cut(ids: list[_T], n: int) -> list[_T]:
        return truncate(ids, n, single_strategy, None if head is None else min(head, n))

    return cut(a, la), cut(b, lb)
