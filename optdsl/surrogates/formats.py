"""Which kind of network file this is, read from its bytes (no torch import, no unpickling).

A zip archive written by torch is an exported program (`archive_format`, `models/*.json`),
TorchScript (`code/` sources, `constants.pkl`) or a `torch.save` pickle (`data.pkl` only: a
state dict when it holds only tensors). An ONNX file is a protobuf, recognized by its suffix.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from optdsl.errors import ModelError

MAX_BYTES = 2 * 1024**3  # a surrogate file larger than this is refused (2 GiB)

EXPORTED, TORCHSCRIPT, STATE_DICT, ONNX, PICKLE = "exported", "torchscript", "state_dict", "onnx", "pickle"


def resolve_path(path: str, base_dir: str | os.PathLike[str] | None) -> Path:
    """`path` as written in the model, relative to the model file's folder."""
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return p


def check_file(p: Path, name: str, max_bytes: int = MAX_BYTES) -> None:
    """A surrogate file must be an existing regular file of bounded size."""
    try:
        st = p.stat()
    except OSError as exc:
        raise ModelError(f"surrogate '{name}': cannot read '{p}' ({exc.strerror or exc})",
                         hint="paths are relative to the model file") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ModelError(f"surrogate '{name}': '{p}' is not a regular file")
    if st.st_size > max_bytes:
        raise ModelError(f"surrogate '{name}': '{p}' has {st.st_size} bytes, more than the {max_bytes} allowed")


def detect(p: Path) -> str:
    """The format of file `p`: one of EXPORTED, TORCHSCRIPT, STATE_DICT (a torch.save archive whose
    content is checked when loaded), ONNX or PICKLE (a bare pickle stream, loaded weights-only)."""
    if p.suffix.lower() == ".onnx":
        return ONNX
    if not zipfile.is_zipfile(p):
        return PICKLE
    with zipfile.ZipFile(p) as z:
        names = z.namelist()
    inner = {n.split("/", 1)[1] if "/" in n else n for n in names}
    if "archive_format" in inner or any(n.startswith("models/") and n.endswith(".json") for n in inner):
        return EXPORTED
    if "constants.pkl" in inner or any(n.startswith("code/") for n in inner):
        return TORCHSCRIPT
    if "data.pkl" in inner:
        return STATE_DICT
    raise ModelError(f"'{p}' is a zip archive but not one torch writes",
                     hint="save the network with torch.export.save (a .pt2 file)")
