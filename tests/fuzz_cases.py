"""Mutated inputs for the fuzz tests (tests/test_fuzz.py) and the long run (benchmarks/fuzz_models.py).

Every example model and data file is a seed. A case picks one file of a seed and damages it the
way a careless edit, a broken transfer or an attacker would: token deletions, duplications and
swaps, truncation, random bytes, invalid UTF-8, huge numbers, NaN/inf, deep nesting. The command
then runs in-process (`optdsl.cli.main` with captured output) and must end with exit status 0, 1
or 2, no traceback, no internal error, and every exit-2 message located (see `problems`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
# LP-class examples also go through `solve` (lowering, HiGHS, the script); the others are checked.
SOLVE = {"diet", "knapsack", "options", "portfolio", "production", "transport", "transport_csv", "assign",
         "blend_table", "diet_mod", "multicommodity", "prodplan", "transport_links", "staff"}


@dataclass(frozen=True)
class Seed:
    name: str
    model: Path
    data: tuple[Path, ...]  # given with --data
    extra: tuple[Path, ...]  # files the model names itself (data "...", table IN)

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.model, *self.data, *self.extra)


def _named_files(model: Path) -> tuple[Path, ...]:
    text = model.read_text(encoding="utf-8")
    names = re.findall(r'(?:data|IN\s+"CSV")\s+"([^"]+)"', text)
    return tuple(model.parent / n for n in names if (model.parent / n).is_file())


def seeds() -> list[Seed]:
    out = []
    for m in sorted((ROOT / "examples").glob("*.opt")):
        out.append(Seed(m.stem, m, (), _named_files(m)))
    for m in sorted((ROOT / "tests" / "models").glob("*")):
        if m.suffix not in (".mod", ".opt"):
            continue
        dat = m.with_suffix(".dat")
        name = "diet_mod" if m.stem == "diet" else m.stem
        out.append(Seed(name, m, (dat,) if dat.is_file() else (), _named_files(m)))
    return out


# --- mutations ---------------------------------------------------------------------------------

_TOKEN = re.compile(rb"\s+|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|.", re.S)
_NUMBER = re.compile(rb"(?<![A-Za-z_])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
HUGE = [b"1e400", b"-1e400", b"1e19", b"99999999999999999999999999", b"1e308", b"-1e-400", b"2147483648"]
NONFINITE = [b"nan", b"NaN", b"inf", b"-inf", b"Infinity", b"-Infinity", b"1/0", b"log(-1)"]
BAD_BYTES = [b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\xe2\x80\xa8", b"\x0c", b"\r", b"\xef\xbb\xbf"]
KINDS = ["delete", "duplicate", "swap", "truncate", "bytes", "encoding", "huge", "nonfinite", "nesting"]


def _tokens(raw: bytes) -> list[bytes]:
    return _TOKEN.findall(raw)


@st.composite
def mutation(draw: st.DrawFn, raw: bytes, suffix: str) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(KINDS))
    toks = _tokens(raw) or [b""]
    n = len(toks)
    if kind == "delete":
        i = draw(st.integers(0, n - 1))
        k = draw(st.integers(1, 3))
        return kind, b"".join(toks[:i] + toks[i + k:])
    if kind == "duplicate":
        i = draw(st.integers(0, n - 1))
        return kind, b"".join(toks[:i + 1] + toks[i:])
    if kind == "swap":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        toks = list(toks)
        toks[i], toks[j] = toks[j], toks[i]
        return kind, b"".join(toks)
    if kind == "truncate":
        return kind, raw[: draw(st.integers(0, max(len(raw) - 1, 0)))]
    if kind == "bytes":
        i = draw(st.integers(0, len(raw)))
        junk = draw(st.binary(min_size=1, max_size=8))
        return kind, raw[:i] + junk + raw[i + draw(st.integers(0, 4)):]
    if kind == "encoding":
        i = draw(st.integers(0, len(raw)))
        return kind, raw[:i] + draw(st.sampled_from(BAD_BYTES)) + raw[i:]
    if kind in ("huge", "nonfinite"):
        spots = [m.span() for m in _NUMBER.finditer(raw)]
        pool = HUGE if kind == "huge" else NONFINITE
        if suffix == ".json":
            pool = pool + [b"NaN", b"Infinity", b"1e999"]
        new = draw(st.sampled_from(pool))
        if not spots:
            return kind, raw + b" " + new
        a, b = spots[draw(st.integers(0, len(spots) - 1))]
        return kind, raw[:a] + new + raw[b:]
    depth = draw(st.sampled_from([50, 600, 5000, 100000]))
    if suffix == ".json":
        return kind, raw.replace(b"[", b"[" * depth, 1) if b"[" in raw else b"[" * depth + raw
    spots = [m.span() for m in _NUMBER.finditer(raw)]
    if not spots:
        return kind, b"(" * depth + raw
    a, b = spots[draw(st.integers(0, len(spots) - 1))]
    return kind, raw[:a] + b"(" * depth + raw[a:b] + b")" * depth + raw[b:]


# --- running -----------------------------------------------------------------------------------


def stage(seed: Seed, folder: Path) -> dict[Path, Path]:
    """Copy the seed's files into `folder` (model and data side by side, as in the repository)."""
    folder.mkdir(parents=True, exist_ok=True)
    where = {}
    for f in seed.files:
        rel = f.relative_to(seed.model.parent) if f.is_relative_to(seed.model.parent) else Path(f.name)
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, target)
        where[f] = target
    return where


def argv_for(seed: Seed, where: dict[Path, Path]) -> list[str]:
    command = "solve" if seed.name in SOLVE else "check"
    argv = [command, str(where[seed.model])]
    for d in seed.data:
        argv += ["--data", str(where[d])]
    if command == "solve":
        argv += ["--time-limit", "10"]
    return argv


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from optdsl.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


_LOCATED = re.compile(r"^[^\s:][^\n]*?:\d+:\d+: ", re.M)


def problems(rc: int, out: str, err: str, names: list[str]) -> list[str]:
    """What is wrong with an outcome: [] when it is one the rules allow."""
    bad = []
    if rc not in (0, 1, 2):
        bad.append(f"exit status {rc}")
    if "Traceback" in err or "Traceback" in out:
        bad.append("a traceback")
    if "internal error" in err:
        bad.append("an internal error")
    if rc == 2:
        first = next((ln for ln in err.splitlines() if "error:" in ln), "")
        at_file = any(f"'{n}'" in first or f"{n}:" in first for n in names)
        if not (_LOCATED.search(first) or at_file):
            bad.append(f"an unlocated error: {first[:200]!r}")
    return bad


def case_env(folder: Path) -> dict[str, str]:
    return {"OPTDSL_STATE_DIR": str(folder / "state")}


@contextlib.contextmanager
def environment(values: dict[str, str]):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
