"""MPS and LP files in and out, through HiGHS's own reader and writer.

`read_model_file(path)` gives an LPForm with the file's column and row names; `write_model_file(form,
path)` writes one. Supported: `.mps`, `.mps.gz`, `.lp`, `.lp.gz` (HiGHS reads gzip itself).

The layout is array-based so that a file with a million columns does not build a million Python
objects: one Block `x` over all columns and one Block `row` over all rows, whose index tuples are
the names in the file (HiGHS's defaults c1..cn / r1..rm where the file has none), built only when
a result is printed. So `result.value("x", "P1")` and `result.variables["x"][("P1",)]`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from optdsl.errors import DataError, SolverError
from optdsl.lower.forms import Block, Layout, LPForm

SUFFIXES = (".mps", ".mps.gz", ".lp", ".lp.gz")
VARIABLES_BLOCK = "x"
ROWS_BLOCK = "row"


def _suffix(path: Path) -> str | None:
    name = path.name.lower()
    return next((s for s in sorted(SUFFIXES, key=len, reverse=True) if name.endswith(s)), None)


def read_model_file(path: str | Path, verbose: bool = False) -> LPForm:
    """Read an MPS or LP file into an LPForm; a missing or malformed file is a DataError naming the
    file and what HiGHS's reader complained about."""
    from optdsl.solvers.highs.adapter import LogCapture, new_highs

    path = Path(path)
    if _suffix(path) is None:
        raise DataError(
            f"cannot read model file '{path}': unknown file type",
            hint=f"model files end in {', '.join(SUFFIXES)}",
        )
    if not path.is_file():
        raise DataError(f"cannot read model file '{path}': no such file")
    from optdsl.files import check_readable

    check_readable(path, what="model file")  # regular files within the size cap only
    h = new_highs(verbose)
    with LogCapture(h) as log:
        status = h.readModel(str(path))
    if status.name == "kError":
        said = log.summary() or "no message"
        raise DataError(f"cannot read model file '{path}': HiGHS's reader failed ({said})")
    try:
        return _form_from_highs(h, path)
    except DataError:
        raise
    except UnicodeDecodeError as exc:  # a name that is not UTF-8: say where, without the bytes
        if not str(path).endswith(".gz"):
            from optdsl.files import check_text_file

            check_text_file(path, what="model file")
        raise DataError(f"cannot read model file '{path}': a name is not valid UTF-8 ({exc.reason})") from None
    except Exception as exc:  # anything unexpected in a file becomes the user's error, not a crash
        raise DataError(f"cannot read model file '{path}': {exc}") from exc


def _form_from_highs(h, path: Path) -> LPForm:
    lp = h.getLp()
    n, m = int(lp.num_col_), int(lp.num_row_)
    c = np.asarray(lp.col_cost_, dtype=float)
    col_lower = np.asarray(lp.col_lower_, dtype=float)
    col_upper = np.asarray(lp.col_upper_, dtype=float)
    row_lower = np.asarray(lp.row_lower_, dtype=float)
    row_upper = np.asarray(lp.row_upper_, dtype=float)
    mat = lp.a_matrix_
    start = np.asarray(mat.start_, dtype=np.int64)
    index = np.asarray(mat.index_, dtype=np.int64)
    value = np.asarray(mat.value_, dtype=float)
    if mat.format_.name == "kColwise":
        A = sp.csc_matrix((value, index, start), shape=(m, n)).tocsr()
    else:
        A = sp.csr_matrix((value, index, start), shape=(m, n))
    col_names = list(lp.col_names_) or None
    row_names = list(lp.row_names_) or None

    _reject_nan(path, "objective coefficient", c, lambda j: f"of column '{_name(col_names, 'c', j)}'")
    _reject_nan(path, "objective constant", np.array([lp.offset_]), lambda _: "")
    for what, arr, names, prefix in (
        ("lower bound", col_lower, col_names, "c"), ("upper bound", col_upper, col_names, "c"),
        ("lower bound", row_lower, row_names, "r"), ("upper bound", row_upper, row_names, "r"),
    ):  # fmt: skip
        kind = "column" if prefix == "c" else "row"
        _reject_nan(path, what, arr, lambda j, nm=names, p=prefix, k=kind: f"of {k} '{_name(nm, p, j)}'")
    if np.isnan(A.data).any():
        coo = A.tocoo()
        bad = int(np.flatnonzero(np.isnan(coo.data))[0])
        i, j = int(coo.row[bad]), int(coo.col[bad])
        raise DataError(
            f"model file '{path}': matrix coefficient (row '{_name(row_names, 'r', i)}', "
            f"column '{_name(col_names, 'c', j)}') is NaN"
        )

    integrality = None
    if len(lp.integrality_):
        kinds = np.array(lp.integrality_, dtype=np.int8)  # HighsVarType codes
        semi = np.flatnonzero((kinds == 2) | (kinds == 3))
        if semi.size:
            cols = ", ".join(f"'{_name(col_names, 'c', int(j))}'" for j in semi[:5])
            raise DataError(
                f"model file '{path}': semi-continuous or semi-integer columns ({cols}) are not supported",
                hint="model them with a binary indicator and linear bounds",
            )
        integrality = (kinds == 1) | (kinds == 4)  # integer, implicit integer
        if not integrality.any():
            integrality = None

    Q = None
    hess = h.getModel().hessian_
    if int(hess.dim_) > 0 and len(hess.value_):
        d = int(hess.dim_)
        start_q = np.asarray(hess.start_, dtype=np.int64)[: d + 1]
        q_index = np.asarray(hess.index_, np.int64)
        H = sp.csc_matrix((np.asarray(hess.value_, float), q_index, start_q), shape=(d, d))
        if hess.format_.name == "kTriangular":  # the lower triangle: mirror it into the symmetric Q
            H = sp.tril(H, format="csc")
            Q = (H + H.T - sp.diags(H.diagonal())).tocsc()
        else:
            Q = H
        if d < n:
            Q = sp.block_diag([Q, sp.csc_matrix((n - d, n - d))], format="csc")
        if np.isnan(Q.data).any():
            raise DataError(f"model file '{path}': a quadratic objective coefficient is NaN")

    layout = Layout(
        variables=[_FileBlock(VARIABLES_BLOCK, 0, n, keys=_keys(col_names, "c", n))] if n else [],
        constraints=[_FileBlock(ROWS_BLOCK, 0, m, keys=_keys(row_names, "r", m))] if m else [],
    )
    return LPForm(
        c=c, A=A, row_lower=row_lower, row_upper=row_upper, col_lower=col_lower, col_upper=col_upper,
        sense="max" if lp.sense_.name == "kMaximize" else "min", c0=float(lp.offset_),
        Q=Q, integrality=integrality, layout=layout,
    )  # fmt: skip


def _name(names: list[str] | None, prefix: str, j: int) -> str:
    return names[j] if names else f"{prefix}{j + 1}"


def _keys(names: list[str] | None, prefix: str, size: int):
    """Index tuples built on demand: printing a result needs them, solving does not."""
    return lambda: [(nm,) for nm in names] if names else [(f"{prefix}{j + 1}",) for j in range(size)]


def _reject_nan(path: Path, what: str, arr: np.ndarray, where) -> None:
    bad = np.flatnonzero(np.isnan(arr))
    if bad.size:
        raise DataError(f"model file '{path}': {what} {where(int(bad[0]))} is NaN".replace("  ", " "))


# --- writing -----------------------------------------------------------------------------------

# MPS names only need to be free of blanks; CPLEX LP names must avoid operators and brackets
# (HiGHS's LP writer falls back to c0, c1, ... when one does not) and must not start with a digit.
_MPS_UNSAFE = re.compile(r"\s")
_LP_UNSAFE = re.compile(r"[^A-Za-z0-9_(),.]")


class _FileBlock(Block):
    """A Block whose index labels are the names a model file gave, written back as they are."""


def _flat_names(blocks: list[Block], size: int, lp_format: bool) -> list[str] | None:
    """One file-safe name per position (`x(Seattle,New_York)` in LP, `x[Seattle,New-York]` in MPS),
    or None when the layout does not cover every position or two names collide once made safe."""
    names: list[str | None] = [None] * size
    unsafe = _LP_UNSAFE if lp_format else _MPS_UNSAFE
    open_, close = ("(", ")") if lp_format else ("[", "]")
    for b in blocks:
        if isinstance(b, _FileBlock):
            labels = [str(k[0]) for k in b.index_tuples()]
        elif b.scalar:
            labels = [b.name]
        else:
            labels = [f"{b.name}{open_}{','.join(str(v) for v in k)}{close}" for k in b.index_tuples()]
        for pos, label in enumerate(labels[: b.size]):
            label = unsafe.sub("_", label)
            names[b.start + pos] = "_" + label if lp_format and label[:1].isdigit() else label
    if any(not nm for nm in names) or len(set(names)) != size:
        return None
    return names  # type: ignore[return-value]


def write_model_file(form: LPForm, path: str | Path, verbose: bool = False) -> None:
    """Write `form` as MPS (`.mps`, `.mps.gz`) or CPLEX LP (`.lp`) through HiGHS's writer, with
    names from the form's layout when it names every column and row."""
    from optdsl.backends import SolveOptions
    from optdsl.solvers.highs.adapter import LogCapture, to_highs

    path = Path(path)
    suffix = _suffix(path)
    if suffix is None or suffix == ".lp.gz":
        raise DataError(
            f"cannot write model file '{path}': unknown file type",
            hint="write .mps, .mps.gz or .lp",
        )
    h = to_highs(form, SolveOptions(verbose=verbose))
    lp_format = suffix == ".lp"
    col_names = _flat_names(form.layout.variables, form.num_cols, lp_format)
    row_names = _flat_names(form.layout.constraints, form.num_rows, lp_format)
    with LogCapture(h) as log:
        if col_names is not None or row_names is not None:
            model = h.getModel()  # the LP and the Hessian: hand both back with the names
            if col_names is not None:
                model.lp_.col_names_ = col_names
            if row_names is not None:
                model.lp_.row_names_ = row_names
            h.passModel(model)
        status = h.writeModel(str(path))
    if status.name == "kError":
        raise SolverError(f"cannot write model file '{path}': {log.summary() or 'HiGHS writeModel failed'}")
