"""Build every registered transformation without WordNet (a dict lexicon stands in)."""

from ftlab.robustness import TRANSFORMS, build_transform

LEXICON = {"movie": ["film", "picture"], "great": ["excellent"], "plot": ["story"], "terrible": ["awful"]}


def spec(name: str, rate: float) -> dict:
    out = {"name": name, "rate": rate}
    if name == "synonyms":
        out["lexicon"] = LEXICON  # the real default needs WordNet data, absent in CI
    return out


def build(name: str, rate: float = 0.5):
    return build_transform(spec(name, rate))


NAMES = sorted(TRANSFORMS)
