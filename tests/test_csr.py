"""The numpy-only CSR matrix of LPForm.A agrees with scipy.sparse."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optdsl.lower.csr import CSRMatrix, as_csr


def _random_coo(seed: int, m: int = 40, n: int = 30, nnz: int = 300):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, m, nnz)
    cols = rng.integers(0, n, nnz)
    vals = rng.normal(size=nnz)
    vals[rng.random(nnz) < 0.1] = 0.0  # explicit zeros are dropped
    return rows, cols, vals, (m, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_from_coo_matches_scipy(seed):
    rows, cols, vals, shape = _random_coo(seed)
    ours = CSRMatrix.from_coo(rows, cols, vals, shape)
    ref = sp.csr_matrix((vals, (rows, cols)), shape=shape)
    ref.sum_duplicates()
    ref.eliminate_zeros()
    np.testing.assert_array_equal(ours.indptr, ref.indptr)
    np.testing.assert_array_equal(ours.indices, ref.indices)
    np.testing.assert_allclose(ours.data, ref.data, rtol=1e-15, atol=1e-15)
    assert ours.nnz == ref.nnz and ours.shape == ref.shape and ours.has_canonical_format
    x = np.random.default_rng(seed + 10).normal(size=shape[1])
    y = np.random.default_rng(seed + 20).normal(size=shape[0])
    np.testing.assert_allclose(ours @ x, ref @ x, atol=1e-12)
    np.testing.assert_allclose(ours.T @ y, ref.T @ y, atol=1e-12)
    np.testing.assert_allclose(y @ ours, y @ ref, atol=1e-12)
    np.testing.assert_array_equal(ours.toarray(), ref.toarray())
    assert (ours.tocsr() != ref).nnz == 0


def test_sorted_input_keeps_its_arrays_order_and_nan():
    rows = np.array([0, 0, 1, 2, 2], dtype=np.int32)
    cols = np.array([0, 3, 1, 0, 2], dtype=np.int32)
    vals = np.array([1.0, np.nan, 2.0, 0.0, 4.0])
    a = CSRMatrix.from_coo(rows, cols, vals, (4, 4))
    assert a.indptr.tolist() == [0, 2, 3, 4, 4]  # the zero is gone, the empty last row stays
    assert a.indices.tolist() == [0, 3, 1, 2] and np.isnan(a.data[1])
    assert a.indices.dtype == np.int32


def test_scipy_and_dense_inputs():
    dup = sp.csr_matrix((np.array([1.0, 2.0]), np.array([0, 0]), np.array([0, 2])), shape=(1, 1))
    assert not dup.has_canonical_format
    a = as_csr(dup)
    assert a.nnz == 1 and a.data[0] == 3.0
    canon = sp.random(5, 6, density=0.4, format="csr", random_state=3)
    b = as_csr(canon)
    assert b.data is canon.data  # a canonical scipy CSR is taken as it is
    np.testing.assert_array_equal(as_csr(np.eye(3)).toarray(), np.eye(3))
    np.testing.assert_array_equal(as_csr(sp.eye(4, format="csc")).toarray(), np.eye(4))
    # anything else goes through scipy
    np.testing.assert_array_equal(b.multiply(2.0).toarray(), 2 * canon.toarray())
    assert b.copy().data is not b.data
    with pytest.raises(ValueError, match="out of range"):
        CSRMatrix.from_coo([0, 3], [0, 0], [1.0, 1.0], (3, 1))
    assert CSRMatrix.empty((0, 5)).nnz == 0


def test_lpform_A_is_scipy_for_readers_and_numpy_for_the_hand_over():
    from pathlib import Path

    import optdsl as od
    from optdsl.lower.lp import to_lpform

    form = to_lpform(od.load(Path(__file__).resolve().parent.parent / "examples" / "transport.opt").ir)
    assert isinstance(form.csr, CSRMatrix) and form.num_rows == 5
    A = form.A  # what code written for scipy reads
    assert sp.isspmatrix_csr(A) and A.data is form.csr.data and A.nnz == 12
    form.A = sp.csc_matrix(A.toarray() * 2)  # code may also set a scipy matrix of any format
    assert isinstance(form.csr, CSRMatrix)
    np.testing.assert_array_equal(form.csr.toarray(), 2 * A.toarray())
