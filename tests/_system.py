"""What the README set-up installs from Debian, and the reason a test skips without it.

`make test` installs these packages when it runs as root (scripts/system-deps.sh); a test never
installs anything. Without root the set-up prints what is missing and these tests skip.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

SETUP = "the README set-up (`make test`, scripts/system-deps.sh) installs it when run as root"


@functools.cache
def wordnet_missing() -> str | None:
    """Why WordNet cannot be loaded here (a skip reason), or None when it can."""
    from ftlab.core import MissingDependencyError
    from ftlab.robustness import WordNetLexicon

    try:
        WordNetLexicon()
    except MissingDependencyError:
        return f"WordNet data is not installed (Debian package wordnet-base; {SETUP})"
    return None


def uses_wordnet(config_text: str) -> bool:
    """Whether a config names the WordNet `synonyms` transformation (not `embedding_synonyms`)."""
    return re.search(r"(?<![A-Za-z_])synonyms\b", config_text) is not None


def postgres_bin() -> Path | None:
    """The folder holding PostgreSQL's initdb and pg_ctl, or None."""
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


POSTGRES_MISSING = f"PostgreSQL server (initdb, pg_ctl) not found (Debian package postgresql; {SETUP})"


def chromium_bin() -> str | None:
    """The headless-capable Chromium binary (Debian package chromium), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_MISSING = f"Chromium not found (Debian package chromium; {SETUP})"
