"""Entry points of optdsl's groups (backends, passes), remembered between runs.

Reading entry points through importlib.metadata costs 40-60 ms at start-up (it imports the email
package and reads every installed distribution's metadata), as much as the rest of a small solve.
What a group holds is therefore kept in the user cache (optdsl.user_cache), under a key made of
the directories on sys.path and their modification times: installing, upgrading or removing a
distribution creates or deletes its dist-info directory, which changes its parent's time, so the
key changes and the groups are read afresh from importlib.metadata.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from typing import Any

from optdsl.user_cache import cache_file, write_atomically

_FORMAT = "optdsl-entry-points-1"


def group(name: str) -> dict[str, str]:
    """{entry point name: "module:attribute"} for the entry-point group `name`."""
    key = _key()
    path = cache_file("entry-points.json")
    cached: dict = {}
    if path is not None and path.is_file():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = {}
    if not isinstance(cached, dict) or cached.get("key") != key:
        cached = {"key": key, "groups": {}}
    groups = cached.setdefault("groups", {})
    found = groups.get(name)
    if isinstance(found, dict) and all(isinstance(v, str) for v in found.values()):
        return dict(found)
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group=name)}
    if path is not None and found:  # an empty group is never remembered: it is read again next time
        groups[name] = found
        write_atomically(path, json.dumps(cached))
    return dict(found)


def load(value: str) -> Any:
    """The object an entry point's "module:attribute.path" names (importlib.metadata's reading)."""
    module, _, attr = value.partition(":")
    obj: Any = importlib.import_module(module.strip())
    for part in attr.strip().split(".") if attr.strip() else ():
        obj = getattr(obj, part)
    return obj


def _key() -> str:
    parts = [_FORMAT, sys.version]
    for entry in sys.path:
        try:
            parts.append(f"{entry}\0{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(f"{entry}\0-")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
