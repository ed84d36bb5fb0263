"""MPS / LP files in and out through HiGHS: round trips, names, and malformed files."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from optdsl.solvers.highs.backend import HighsBackend

from optdsl.backends import SolveOptions
from optdsl.errors import DataError, OptdslError
from optdsl.interchange import read_model_file, write_model_file
from optdsl.lower.forms import Block, Layout, LPForm
from optdsl.results import TerminationStatus

pytest.importorskip("highspy")

INF = np.inf
DEFAULT_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
CORPORA = Path(os.environ.get("OPTDSL_CORPORA", DEFAULT_CORPORA))
HIGHS_DIR = CORPORA / "lp-mip" / "highs"
needs_corpus = pytest.mark.skipif(not HIGHS_DIR.is_dir(), reason=f"LP/MIP corpus not found at {HIGHS_DIR}")


def solve(form: LPForm):
    return HighsBackend().solve(form, SolveOptions())


def transportation() -> LPForm:
    sources, sinks = ["Seattle", "San-Diego"], ["New-York", "Chicago", "Topeka"]
    d = np.array([[2.5, 1.7, 1.8], [2.5, 1.8, 1.4]])
    A = sp.vstack([sp.kron(sp.eye(2), np.ones((1, 3))), sp.kron(np.ones((1, 2)), sp.eye(3))]).tocsr()
    return LPForm(
        c=(90 * d / 1000).ravel(),
        A=A,
        row_lower=np.r_[np.full(2, -INF), 325.0, 300, 275],
        row_upper=np.r_[350.0, 600, np.full(3, INF)],
        col_lower=np.zeros(6),
        col_upper=np.full(6, INF),
        c0=1.5,  # the offset must survive the file
        layout=Layout(
            variables=[Block("x", 0, 6, keys=lambda: [(i, j) for i in sources for j in sinks])],
            constraints=[
                Block("supply", 0, 2, keys=lambda: [(i,) for i in sources]),
                Block("demand", 2, 3, keys=lambda: [(j,) for j in sinks]),
            ],
        ),
    )


def knapsack_qp() -> LPForm:
    """max, integer columns and (separately) a Hessian, to check all three survive."""
    return LPForm(
        c=np.array([8.0, 6, 4, 5]),
        A=sp.csr_matrix(np.array([[5.0, 4, 3, 4]])),
        row_lower=np.array([-INF]),
        row_upper=np.array([11.0]),
        col_lower=np.zeros(4),
        col_upper=np.ones(4),
        sense="max",
        integrality=np.array([True, True, False, True]),
        layout=Layout(variables=[Block("take", 0, 4, keys=lambda: [(i,) for i in range(1, 5)])]),
    )


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".mps", ".lp", ".mps.gz", ".lp.gz"])
def test_round_trip_same_optimum_and_names(tmp_path: Path, suffix: str):
    form = transportation()
    path = tmp_path / f"transport{suffix}"
    if suffix == ".lp.gz":  # HiGHS writes .lp only; it reads .lp.gz
        write_model_file(form, tmp_path / "transport.lp")
        path.write_bytes(gzip.compress((tmp_path / "transport.lp").read_bytes()))
    else:
        write_model_file(form, path)
    back = read_model_file(path)
    assert (back.num_cols, back.num_rows, back.sense) == (6, 5, "min")
    assert back.c0 == pytest.approx(1.5)
    r = solve(back)
    assert r.status is TerminationStatus.OPTIMAL
    assert r.objective == pytest.approx(153.675 + 1.5, rel=1e-9)
    names = {k[0] for k in r.variables["x"]}
    if suffix.startswith(".mps"):  # MPS keeps brackets and dashes
        assert "x[San-Diego,Topeka]" in names
        assert r.value("x", "x[San-Diego,Topeka]") == pytest.approx(275)
        assert set(k[0] for k in r.duals["row"]) == {
            "supply[Seattle]", "supply[San-Diego]", "demand[New-York]", "demand[Chicago]", "demand[Topeka]",
        }  # fmt: skip
    else:  # CPLEX LP names may not hold brackets or '-': they become ( , ) and _
        assert "x(San_Diego,Topeka)" in names
        assert r.value("x", "x(San_Diego,Topeka)") == pytest.approx(275)


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_round_trip_keeps_sense_integrality_and_hessian(tmp_path: Path, suffix: str):
    form = knapsack_qp()
    write_model_file(form, tmp_path / f"k{suffix}")
    back = read_model_file(tmp_path / f"k{suffix}")
    assert back.sense == "max"
    order = [int(k[0][5]) - 1 for k in back.layout.variables[0].index_tuples()]  # "take[2]" -> 1
    np.testing.assert_array_equal(back.integrality, form.integrality[order])
    assert solve(back).objective == pytest.approx(solve(form).objective)

    qp = LPForm(
        c=np.array([-2.0, -5.0]),
        c0=7.25,
        Q=sp.csc_matrix(np.array([[2.0, 0.5], [0.5, 2.0]])),
        A=sp.csr_matrix(np.array([[1.0, -2], [-1, -2], [-1, 2]])),
        row_lower=np.array([-2.0, -6, -2]),
        row_upper=np.full(3, INF),
        col_lower=np.zeros(2),
        col_upper=np.full(2, INF),
        layout=Layout(variables=[Block("x", 0, 2, keys=lambda: [(1,), (2,)])]),  # names + Hessian
    )
    write_model_file(qp, tmp_path / f"q{suffix}")
    back = read_model_file(tmp_path / f"q{suffix}")
    assert [k[0] for k in back.layout.variables[0].index_tuples()] == (
        ["x(1)", "x(2)"] if suffix == ".lp" else ["x[1]", "x[2]"]
    )
    np.testing.assert_allclose(back.Q.toarray(), qp.Q.toarray())
    assert solve(back).objective == pytest.approx(solve(qp).objective, rel=1e-7)


def test_names_fall_back_when_the_layout_does_not_name_everything(tmp_path: Path):
    form = transportation()
    form.layout = Layout()
    write_model_file(form, tmp_path / "plain.mps")
    back = read_model_file(tmp_path / "plain.mps")
    assert solve(back).objective == pytest.approx(155.175)


def test_write_unknown_suffix(tmp_path: Path):
    with pytest.raises(DataError, match=r"cannot write model file '.*model\.txt': unknown file type"):
        write_model_file(transportation(), tmp_path / "model.txt")


# --- reading the corpus ------------------------------------------------------------------------


@needs_corpus
def test_read_mps_names_and_layout():
    form = read_model_file(HIGHS_DIR / "afiro.mps")
    assert (form.num_cols, form.num_rows, form.A.nnz) == (32, 27, 83)
    # one block per kind; names built on demand
    assert [b.name for b in form.layout.variables] == ["x"]
    assert [b.name for b in form.layout.constraints] == ["row"]
    r = solve(form)
    assert r.objective == pytest.approx(-464.75314286, rel=1e-9)
    assert r.value("x", "X01") == pytest.approx(80)
    assert "R09" in r.to_dict()["duals"]["row"]


@needs_corpus
def test_read_mps_gz():
    form = read_model_file(CORPORA / "lp-mip" / "netlib" / "afiro.mps.gz")
    assert solve(form).objective == pytest.approx(-464.75314286, rel=1e-9)


@needs_corpus
def test_read_qp_files():
    for name in ("qjh.mps", "qjh_quadobj.mps", "qjh_qmatrix.mps", "qjh.lp"):
        form = read_model_file(HIGHS_DIR / name)
        assert form.is_qp, name
        assert solve(form).objective == pytest.approx(-5.25, rel=1e-6), name


@needs_corpus
def test_reading_is_silent(capfd):
    read_model_file(HIGHS_DIR / "afiro.mps")
    with pytest.raises(DataError):
        read_model_file(HIGHS_DIR / "garbage.mps")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# --- malformed files ---------------------------------------------------------------------------


@needs_corpus
def test_garbage_mps():
    path = HIGHS_DIR / "garbage.mps"
    with pytest.raises(DataError) as err:
        read_model_file(path)
    assert str(err.value) == (
        f"error: cannot read model file '{path}': HiGHS's reader failed (Parser error reading {path})"
    )


@needs_corpus
def test_garbage_lp_says_what_the_reader_expected():
    path = HIGHS_DIR / "garbage.lp"
    with pytest.raises(DataError) as err:
        read_model_file(path)
    msg = err.value.message
    assert msg.startswith(f"cannot read model file '{path}': HiGHS's reader failed (")
    assert "expected a section keyword, found `dvhfalkmnthry6v54y76m87yq,x,`" in msg
    assert "garbage.lp:2:1" in msg


@needs_corpus
@pytest.mark.parametrize(
    "name, says",
    [
        ("nan0.mps", "model file '{path}': objective coefficient of column 'P1' is NaN"),
        ("nan1.mps", "model file '{path}': matrix coefficient (row 'FINISHNG', column 'P2') is NaN"),
        (
            "nan2.mps",
            "cannot read model file '{path}': HiGHS's reader failed "
            "(Row 0 (Row ASSEMBLY) has upper bound of nan <= -1e+20)",
        ),
    ],
)
def test_nan_files(name: str, says: str):
    path = HIGHS_DIR / name
    with pytest.raises(DataError) as err:
        read_model_file(path)
    assert err.value.message == says.format(path=path)


@needs_corpus
def test_unsupported_content():
    with pytest.raises(DataError, match="quadratic constraints are not supported by HiGHS"):
        read_model_file(HIGHS_DIR / "qcqp.lp")
    semi = r"semi-continuous or semi-integer columns \('x3'\) are not supported"
    with pytest.raises(DataError, match=semi):
        read_model_file(HIGHS_DIR / "semi-continuous.mps")


def test_missing_and_unknown_files(tmp_path: Path):
    with pytest.raises(DataError, match=r"cannot read model file '.*nowhere\.mps': no such file"):
        read_model_file(tmp_path / "nowhere.mps")
    (tmp_path / "model.txt").write_text("NAME x\n")
    with pytest.raises(DataError) as err:
        read_model_file(tmp_path / "model.txt")
    assert "unknown file type" in err.value.message and ".mps.gz" in err.value.hint


def test_truncated_gzip_is_an_error_not_a_crash(tmp_path: Path):
    path = tmp_path / "broken.mps.gz"
    src = HIGHS_DIR / "afiro.mps"
    data = gzip.compress(src.read_bytes()) if src.is_file() else gzip.compress(b"NAME x\nROWS\n N obj\n")
    path.write_bytes(data[: len(data) // 2])
    try:
        form = read_model_file(path)
    except OptdslError as err:
        assert str(path) in err.message
    else:  # HiGHS may read the surviving prefix; whatever it read must be a consistent form
        assert form.A.shape == (form.num_rows, form.num_cols)


def test_copy_of_corpus_file_elsewhere(tmp_path: Path):
    """Suffix matching is case-insensitive (AFIRO.MPS from old archives)."""
    if not (HIGHS_DIR / "afiro.mps").is_file():
        pytest.skip(f"LP/MIP corpus not found at {HIGHS_DIR}")
    shutil.copy(HIGHS_DIR / "afiro.mps", tmp_path / "AFIRO.MPS")
    assert read_model_file(tmp_path / "AFIRO.MPS").num_cols == 32
