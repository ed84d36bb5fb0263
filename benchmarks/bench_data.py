"""Time loading a 1000x1000 param (1M entries) in each data layout.

    python benchmarks/bench_data.py [--n 1000] [--repeat 3]

Prints one row per layout: file size, and the best wall time and best CPU time (this process)
of `--repeat` loads; the file is written once, outside the timing. On a shared machine the CPU
time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from optdsl.data import load_csv, load_data_file, load_json
from optdsl.data.store import Declared


def _write_all(d: Path, vals: np.ndarray) -> dict[str, Path]:
    n, m = vals.shape
    rows = [f"r{i}" for i in range(n)]
    cols = [f"c{j}" for j in range(m)]
    text = np.char.mod("%.6g", vals)  # six significant digits, as data files usually carry
    files = {}

    files["json nested array"] = d / "nested.json"
    files["json nested array"].write_text(json.dumps({"d": np.round(vals, 6).tolist()}))

    keyed = {
        f"{r},{c}": float(v)
        for r, row in zip(rows, np.round(vals, 6), strict=True)
        for c, v in zip(cols, row, strict=True)
    }
    files["json keyed object"] = d / "keyed.json"
    files["json keyed object"].write_text(json.dumps({"d": keyed}))

    files["json columns form"] = d / "columns.json"
    files["json columns form"].write_text(
        json.dumps(
            {
                "d": {
                    "keys": [np.repeat(rows, m).tolist(), np.tile(cols, n).tolist()],
                    "values": np.round(vals, 6).ravel().tolist(),
                }
            }
        )
    )

    files["csv matrix"] = d / "matrix.csv"
    files["csv matrix"].write_text("\n".join(",".join(r) for r in text) + "\n")

    files["csv header i,j,value"] = d / "long.csv"
    long = np.column_stack([np.repeat(rows, m), np.tile(cols, n), text.ravel()])
    files["csv header i,j,value"].write_text("i,j,value\n" + "\n".join(",".join(r) for r in long) + "\n")

    files[".dat table"] = d / "table.dat"
    body = "\n".join(f"{r} " + " ".join(t) for r, t in zip(rows, text, strict=True))
    files[".dat table"].write_text(f"param d : {' '.join(cols)} :=\n{body} ;\n")
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    schema = {"d": Declared("param", 2, ("I", "J"))}
    vals = np.random.default_rng(0).random((args.n, args.n))
    loaders: dict[str, Callable[[Path], object]] = {
        "csv matrix": lambda p: load_csv(p, "d", schema),
        "csv header i,j,value": lambda p: load_csv(p, "d", schema),
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_all(Path(tmp), vals)
        print(f"{'layout':<24}{'entries':>10}{'MB':>8}{'wall s':>9}{'cpu s':>9}")
        for name, path in files.items():
            load = loaders.get(
                name, lambda p: load_data_file(p, schema) if p.suffix != ".json" else load_json(p, schema)
            )
            wall = cpu = float("inf")
            for _ in range(args.repeat):
                t, c = time.perf_counter(), time.process_time()
                store = load(path)
                wall = min(wall, time.perf_counter() - t)
                cpu = min(cpu, time.process_time() - c)
            p = store.params["d"]  # type: ignore[attr-defined]
            count = p.dense.size if p.dense is not None else len(p.values)
            print(f"{name:<24}{count:>10}{path.stat().st_size / 1e6:>8.1f}{wall:>9.3f}{cpu:>9.3f}")


if __name__ == "__main__":
    main()
