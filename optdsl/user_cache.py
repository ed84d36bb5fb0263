"""The user's cache directory for optdsl: plain JSON files that make start-up fast.

`$OPTDSL_CACHE_DIR`, else `$XDG_CACHE_HOME/optdsl`, else `~/.cache/optdsl`; an empty
OPTDSL_CACHE_DIR turns caching off. Only a directory that its owner alone can write is used, since
what is cached (parse tables, entry points) decides what optdsl runs. Files are never unpickled;
a stale or damaged file is ignored and rebuilt by its reader.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_file(name: str) -> Path | None:
    """The path of cache file `name`, or None when there is no usable cache directory."""
    base = os.environ.get("OPTDSL_CACHE_DIR")
    if base is None:
        root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(root, "optdsl")
    if not base:
        return None
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        st = os.stat(base)
    except OSError:
        return None
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        return None
    return Path(base) / name


def write_atomically(path: Path, text: str) -> None:
    """Best effort: a cache that cannot be written is simply not written."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
