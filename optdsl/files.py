"""Every file optdsl reads or writes on behalf of a model goes through here.

A model file may come from someone else, so the paths it names (``data "…"``, ``table … IN``,
``table … OUT``, ``printf … > "file"``, surrogate files) are confined; the files a user names on
the command line (the model, ``--data``, ``-o``) are not, since the user chose them. The rules
(also in docs/files.md):

Reads (``read_text``, ``read_bytes``, ``check_readable``)
    - only regular files: devices, FIFOs, sockets and directories are refused before opening, so
      ``/dev/zero`` or a named pipe cannot hang or exhaust memory;
    - at most ``Policy.max_read_bytes`` (default 2 GiB, ``$OPTDSL_MAX_READ_BYTES``);
    - text is UTF-8: a decoding error names file:line:col of the first bad byte, and a file with
      NUL bytes is "not a text file"; neither error shows any of the file's content.
    A path named inside a model or data file (``model_read_path``) must also lie, after symlinks
    are resolved, under the model's directory, the current directory or a directory given with
    ``--allow-read DIR``, and no part of it below that directory may start with a dot.

Writes (``model_write_path``, ``atomic_write``, ``Outputs``)
    A path named inside a model file is written only
    - under the model's directory or the current directory (or a ``--allow-write DIR``),
      symlinks resolved, into a directory that exists;
    - never to a dotfile or into a dot directory (``.bashrc``, ``.git/hooks/…``);
    - only with a suffix of a data or text file (``WRITE_SUFFIXES``): never ``.py``, ``.sh``, …;
    - never over an existing file unless it is a previous output: a file optdsl wrote for a model
      and that still holds exactly what was written (its SHA-256 is kept in the output record,
      ``$OPTDSL_STATE_DIR/outputs.json``, default ``~/.local/state/optdsl``).
    Every write (results, ``convert``, tables) goes to a temporary file in the target's directory,
    which is flushed, fsync'ed and renamed over the target: a crash or a full disk leaves the old
    file as it was.

The policy for the current command is a context variable: ``with files.policy(allow_write=[d]):``.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from optdsl.errors import DataError, Span

WRITE_SUFFIXES = frozenset({
    ".csv", ".tsv", ".txt", ".dat", ".json", ".out", ".log", ".sol", ".tab", ".lp", ".mps", ".tex", ".md",
    ".ps", ".eps", ".svg",  # GMPL's examples draw their results (graph.mod, tas.mod)
})  # fmt: skip
DEFAULT_MAX_READ = 2 << 30


class FileError(DataError):
    """A file cannot be read or written under the file rules (CLI exit status 2)."""


@dataclass(frozen=True)
class Policy:
    """What a model may reach: extra roots from the command line and the read size cap."""

    allow_read: tuple[Path, ...] = ()
    allow_write: tuple[Path, ...] = ()
    max_read_bytes: int = field(default_factory=lambda: _env_int("OPTDSL_MAX_READ_BYTES", DEFAULT_MAX_READ))


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


_POLICY: contextvars.ContextVar[Policy | None] = contextvars.ContextVar("optdsl_file_policy", default=None)


def current() -> Policy:
    """The policy in force (the default one outside a ``policy()`` block)."""
    return _POLICY.get() or Policy()


@contextlib.contextmanager
def policy(allow_read: Iterable[str | os.PathLike[str]] = (), allow_write: Iterable[str | os.PathLike[str]] = (),
           max_read_bytes: int | None = None) -> Iterator[Policy]:
    """Widen the rules for the block: directories a model may also read from / write to."""
    base = current()
    new = replace(
        base,
        allow_read=base.allow_read + tuple(_real(Path(p)) for p in allow_read),
        allow_write=base.allow_write + tuple(_real(Path(p)) for p in allow_write),
        max_read_bytes=base.max_read_bytes if max_read_bytes is None else int(max_read_bytes),
    )
    token = _POLICY.set(new)
    try:
        yield new
    finally:
        _POLICY.reset(token)


# --- paths -------------------------------------------------------------------------------------


def _real(p: Path) -> Path:
    return Path(os.path.realpath(p))


def _check_name(name: str | os.PathLike[str], origin: Span | None, what: str) -> str:
    text = os.fspath(name)
    if "\x00" in text:
        raise FileError(f"{what}: the file name contains a NUL byte", origin)
    if not text.strip():
        raise FileError(f"{what}: the file name is empty", origin)
    return text


def _under(path: Path, roots: Iterable[Path]) -> Path | None:
    """The first root that `path` (resolved) lies in, or None."""
    for root in roots:
        if path == root or root in path.parents:
            return root
    return None


def _dot_part(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    return next((part for part in rel.parts if part.startswith(".")), None)


def _roots(base_dir: str | os.PathLike[str] | None) -> list[Path]:
    roots = [_real(Path.cwd())]
    if base_dir is not None:
        roots.insert(0, _real(Path(base_dir)))
    return roots


def model_read_path(name: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None,
                    origin: Span | None = None, what: str = "data file") -> Path:
    """The file a model or data file names for reading (relative to the model's directory),
    checked against the read rules; the returned path is the one to open (as the model wrote it,
    joined to `base_dir`), so that messages name what the modeler wrote."""
    text = _check_name(name, origin, what)
    path = Path(text)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    real = _real(path)
    roots = _roots(base_dir) + list(current().allow_read) + list(current().allow_write)
    root = _under(real, roots)
    if root is None:
        raise FileError(
            f"{what} '{text}' is outside the model's directory and the current directory",
            origin, hint="a model reads files next to it; widen this with --allow-read DIR",
        )
    dot = _dot_part(real, root)
    if dot is not None:
        raise FileError(f"{what} '{text}': a model does not read hidden files or folders ('{dot}')", origin)
    check_readable(path, origin, what, shown=text)
    return path


def check_readable(path: str | os.PathLike[str], origin: Span | None = None, what: str = "file",
                   shown: str | None = None) -> int:
    """Refuse anything but a regular file within the size cap; returns its size. For readers that
    open files by name themselves (numpy, pandas, HiGHS)."""
    shown = shown if shown is not None else os.fspath(path)
    _check_name(shown, origin, what)
    try:
        st = os.stat(path)
    except OSError as e:
        raise FileError(f"cannot read {what} '{shown}': {e.strerror or e}", origin) from None
    _check_stat(st, shown, origin, what)
    return st.st_size


def _check_stat(st: os.stat_result, shown: str, origin: Span | None, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise FileError(f"cannot read {what} '{shown}': it is a directory", origin)
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"cannot read {what} '{shown}': not a regular file (a device, pipe or socket)", origin)
    cap = current().max_read_bytes
    if st.st_size > cap:
        raise FileError(
            f"cannot read {what} '{shown}': {st.st_size} bytes is over the limit of {cap} bytes", origin,
            hint="raise it with the environment variable OPTDSL_MAX_READ_BYTES",
        )


# --- reading -----------------------------------------------------------------------------------


def read_bytes(path: str | os.PathLike[str], origin: Span | None = None, what: str = "file") -> bytes:
    """The bytes of a regular file, at most the size cap (checked on the open file, so a file
    swapped or growing after the check cannot get past it)."""
    shown = os.fspath(path)
    _check_name(shown, origin, what)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise FileError(f"cannot read {what} '{shown}': {e.strerror or e}", origin) from None
    with os.fdopen(fd, "rb") as f:
        _check_stat(os.fstat(fd), shown, origin, what)
        cap = current().max_read_bytes
        data = f.read(cap + 1)
    if len(data) > cap:
        raise FileError(f"cannot read {what} '{shown}': over the limit of {cap} bytes", origin)
    return data


def decode_text(data: bytes, file: str, what: str = "file") -> str:
    """UTF-8 text (a leading BOM dropped); a bad byte is a located error that shows no content."""
    if b"\x00" in data:
        line, col = _line_col(data, data.index(b"\x00"))
        raise FileError(f"{what} '{file}' is not a text file (a NUL byte)", Span(file, line, col, text=""),
                        hint="optdsl reads UTF-8 text files")
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        line, col = _line_col(data, e.start)
        raise FileError(  # text="": the line is not shown, since the file may not be text at all
            f"{what} '{file}' is not valid UTF-8 (byte 0x{data[e.start]:02x})", Span(file, line, col, text=""),
            hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        ) from None


def _line_col(data: bytes, pos: int) -> tuple[int, int]:
    start = data.rfind(b"\n", 0, pos) + 1
    col = len(data[start:pos].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, pos) + 1, col


def read_text(path: str | os.PathLike[str], origin: Span | None = None, what: str = "file") -> str:
    """A regular UTF-8 text file within the size cap (see `read_bytes` and `decode_text`)."""
    return decode_text(read_bytes(path, origin, what), os.fspath(path), what)


TEXT_CHECK_BYTES = 64 << 20


def check_text_file(path: str | os.PathLike[str], origin: Span | None = None, what: str = "file") -> None:
    """For readers that open by name (numpy, pandas): the checks of `read_text` without keeping
    the text; past `TEXT_CHECK_BYTES` (64 MiB) only that much of the start is checked (the reader
    itself then fails on a bad byte further on, and that failure is reported through here)."""
    shown = os.fspath(path)
    size = check_readable(path, origin, what)
    if size <= TEXT_CHECK_BYTES:
        read_text(path, origin, what)
        return
    with open(path, "rb") as f:
        head = f.read(TEXT_CHECK_BYTES)
    cut = head.rfind(b"\n") + 1 or len(head)  # whole lines only, so that no character is split
    decode_text(head[:cut], shown, what)


# --- writing -----------------------------------------------------------------------------------


def model_write_path(name: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None,
                     origin: Span | None = None, what: str = "output file") -> Path:
    """The file a model names for writing, checked against the write rules (module docstring)."""
    text = _check_name(name, origin, what)
    path = Path(text)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.name in ("", ".", ".."):
        raise FileError(f"{what} '{text}' names a directory, not a file", origin)
    parent = _real(path.parent)
    if not parent.is_dir():
        raise FileError(f"cannot write {what} '{text}': the folder {path.parent} does not exist", origin)
    target = parent / path.name
    root = _under(target, _roots(base_dir) + list(current().allow_write))
    if root is None:
        raise FileError(
            f"a model may not write '{text}': it is outside the model's directory and the current directory",
            origin, hint=f"allow it with --allow-write {parent}",
        )
    dot = _dot_part(target, root)
    if dot is not None:
        raise FileError(f"a model may not write '{text}': hidden files and folders ('{dot}') are off limits", origin)
    if target.suffix.lower() not in WRITE_SUFFIXES:
        raise FileError(
            f"a model may not write '{text}': only data and text files are written "
            f"({', '.join(sorted(WRITE_SUFFIXES))})", origin,
        )
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except OSError as e:
        raise FileError(f"cannot write {what} '{text}': {e.strerror or e}", origin) from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"a model may not write '{text}': it exists and is not a regular file", origin)
    if not is_previous_output(target):
        raise FileError(
            f"a model may not overwrite '{text}': the file exists and is not an earlier output of optdsl "
            "(or was changed since)", origin, hint="remove or rename it first",
        )
    return target


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, record: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, flush and fsync it, then rename it over
    `path`; on any failure `path` is left as it was. `record` enters the file in the output
    record (so that a later run of the model may replace it)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash once the folder is synced
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    if record:
        _record(target, raw)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """For writers that take a file name (HiGHS's MPS/LP writer): yields a temporary name beside
    `path` with the same suffix; when the block succeeds that file is fsync'ed and renamed over
    `path`, else removed."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    suffix = "".join(target.suffixes[-2:]) if target.name.endswith(".gz") else target.suffix
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Outputs:
    """The files one run of a model's script writes, committed together at the end.

    ``write`` checks the path at once (so a refused path stops the script where it is named) and
    collects the text; ``append=True`` continues what this run already wrote to that file (AMPL's
    ``>>``, and ``>`` after the first write of a run). ``commit`` writes every file atomically.
    """

    def __init__(self, base_dir: str | os.PathLike[str] | None) -> None:
        self.base_dir = base_dir
        self._texts: dict[Path, list[str]] = {}

    def write(self, name: str, text: str, origin: Span | None = None, append: bool = False,
              what: str = "output file", extend_existing: bool = False) -> Path:
        """`extend_existing` (AMPL's `>>` to a file from an earlier run) starts from the file's
        present text; model_write_path has already checked that it is an earlier output."""
        target = model_write_path(name, self.base_dir, origin, what)
        if append and target in self._texts:
            self._texts[target].append(text)
        elif extend_existing and target.exists():
            self._texts[target] = [read_text(target, origin), text]
        else:
            self._texts[target] = [text]
        return target

    def commit(self) -> list[Path]:
        for target, parts in self._texts.items():
            atomic_write(target, "".join(parts), record=True)
        done = list(self._texts)
        self._texts.clear()
        return done


# --- the output record -------------------------------------------------------------------------


def _record_file() -> Path | None:
    base = os.environ.get("OPTDSL_STATE_DIR")
    if base is not None:
        return Path(base) / "outputs.json" if base else None
    xdg = os.environ.get("XDG_STATE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return root / "optdsl" / "outputs.json"


def _load_record(file: Path) -> dict[str, str]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _record(target: Path, raw: bytes) -> None:
    file = _record_file()
    if file is None:
        return
    with contextlib.suppress(OSError):
        file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        entries = _load_record(file)
        entries.pop(str(_real(target)), None)
        entries[str(_real(target))] = hashlib.sha256(raw).hexdigest()
        keep = dict(list(entries.items())[-10000:])
        atomic_write(file, json.dumps(keep, indent=0))


def is_previous_output(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a file optdsl wrote for a model and still holds what was written."""
    file = _record_file()
    if file is None:
        return False
    want = _load_record(file).get(str(_real(Path(path))))
    if want is None:
        return False
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return False
    return h.hexdigest() == want


__all__ = [
    "WRITE_SUFFIXES", "FileError", "Outputs", "Policy", "atomic_path", "atomic_write", "check_readable",
    "check_text_file", "current", "decode_text", "is_previous_output", "model_read_path", "model_write_path",
    "policy", "read_bytes", "read_text",
]  # fmt: skip
