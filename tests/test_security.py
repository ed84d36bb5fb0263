"""The file rules for paths named inside models (optdsl.files, docs/files.md), one test per
reproducer of the security issue plus the edges of each rule."""

from __future__ import annotations

import io
import os
import sys
import threading
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from optdsl import files
from optdsl.cli import main

WRITE_MODEL = """set CMD; var x >= 0, <= 1; maximize o: x; solve;
table T {{c in CMD}} OUT "CSV" "{target}": c ~ true;
data; set CMD := "echo PWNED > /tmp/proof.txt #"; end;
"""


@pytest.fixture(autouse=True)
def _state(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTDSL_STATE_DIR", str(tmp_path / "state"))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def write_model(folder: Path, target: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / "m.opt"
    model.write_text(WRITE_MODEL.format(target=target))
    return model


# --- writes ------------------------------------------------------------------------------------


def test_table_out_cannot_overwrite_a_file_outside(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    victim = home / "notes.txt"
    victim.write_text("keep\n")
    model = write_model(tmp_path / "proj", str(victim))
    rc, out, err = run("solve", str(model))
    assert rc == 2
    assert victim.read_text() == "keep\n"
    assert "m.opt:2:1: error: a model may not write" in err and "outside the model's directory" in err
    assert "--allow-write" in err


def test_table_out_to_a_dotfile_is_refused(tmp_path):
    model = write_model(tmp_path / "proj", ".bashrc")
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "hidden files" in err
    assert not (tmp_path / "proj" / ".bashrc").exists()
    model = write_model(tmp_path / "proj", ".git/hooks/pre-commit.txt")
    (tmp_path / "proj" / ".git" / "hooks").mkdir(parents=True)
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "hidden files and folders ('.git')" in err


def test_table_out_with_dotdot_is_confined(tmp_path):
    (tmp_path / "proj").mkdir()
    model = write_model(tmp_path / "proj" / "sub", "../../escape.csv")
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "outside" in err
    assert not (tmp_path / "escape.csv").exists()


def test_table_out_refuses_code_suffixes(tmp_path):
    model = write_model(tmp_path / "proj", "conftest.py")
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "only data and text files" in err
    assert not (tmp_path / "proj" / "conftest.py").exists()


def test_table_out_through_a_symlink_is_confined(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "link").symlink_to(outside, target_is_directory=True)
    model = write_model(proj, "link/out.csv")
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "outside" in err
    assert not (outside / "out.csv").exists()


def test_table_out_writes_new_files_and_replaces_its_own_outputs(tmp_path):
    proj = tmp_path / "proj"
    model = write_model(proj, "out.csv")
    rc, _, err = run("solve", str(model))
    assert rc == 0, err
    first = (proj / "out.csv").read_text()
    assert first.splitlines() == ["true", "echo PWNED > /tmp/proof.txt #"]
    assert files.is_previous_output(proj / "out.csv")
    rc, _, err = run("solve", str(model))  # the second run replaces the first run's output
    assert rc == 0, err
    (proj / "out.csv").write_text("edited by hand\n")  # no longer what optdsl wrote: kept
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "may not overwrite" in err
    assert (proj / "out.csv").read_text() == "edited by hand\n"


def test_an_existing_file_is_not_overwritten(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "data.csv").write_text("precious\n")
    model = write_model(proj, "data.csv")
    rc, _, err = run("solve", str(model))
    assert rc == 2 and "is not an earlier output" in err
    assert (proj / "data.csv").read_text() == "precious\n"


def test_allow_write_widens_the_rule(tmp_path):
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    model = write_model(tmp_path / "proj", str(out_dir / "t.csv"))
    rc, _, err = run("solve", str(model), "--allow-write", str(out_dir))
    assert rc == 0, err
    assert (out_dir / "t.csv").read_text().startswith("true")


def test_write_leaves_no_temporary_files(tmp_path):
    proj = tmp_path / "proj"
    model = write_model(proj, "out.csv")
    assert run("solve", str(model))[0] == 0
    assert sorted(p.name for p in proj.iterdir()) == ["m.opt", "out.csv"]


# --- solver options that name files -------------------------------------------------------------


@pytest.mark.parametrize("option", ['highs.write_solution_to_file 1', 'highs.solution_file "sol.txt"',
                                    'highs.log_file "h.log"', 'highs.write_model_file "m.mps"'])
def test_highs_file_options_are_refused_from_model_files(tmp_path, option):
    model = tmp_path / "m.opt"
    model.write_text(f"var x >= 0, <= 1; maximize o: x;\noption {option};\n")
    rc, _, err = run("solve", str(model))
    assert rc == 2
    assert "m.opt:2:1: error: option highs." in err and "may not set an option that reads or writes files" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.opt", "state"] or not (tmp_path / "sol.txt").exists()


def test_highs_file_options_are_allowed_from_the_command_line(tmp_path):
    model = tmp_path / "m.opt"
    model.write_text("var x >= 0, <= 1; maximize o: x;\n")
    sol = tmp_path / "sol.txt"
    rc, _, err = run("solve", str(model), "--option", "highs.write_solution_to_file=1",
                     "--option", f"highs.solution_file={sol}")
    assert rc == 0, err
    assert sol.is_file()


# --- reads -------------------------------------------------------------------------------------


def test_table_in_cannot_read_system_files_or_echo_them(tmp_path):
    model = tmp_path / "m.opt"
    model.write_text('set S; param p {S}; table T IN "CSV" "../../../../etc/passwd": S <- [nosuchcol];\n'
                     "var x; minimize o: x;\n")
    rc, _, err = run("check", str(model))
    assert rc == 2 and "m.opt:1:21:" in err
    assert "root:" not in err and "/bin/" not in err


def test_table_in_outside_the_model_directory_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "t.csv").write_text("K,d\na,1\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    model = proj / "m.opt"
    model.write_text(f'set S; param d {{S}}; table T IN "CSV" "{elsewhere / "t.csv"}": S <- [K], d;\n'
                     "var x; minimize o: x;\n")
    rc, _, err = run("check", str(model))
    assert rc == 2 and "outside the model's directory" in err and "--allow-read" in err
    rc, out, err = run("check", str(model), "--allow-read", str(elsewhere))
    assert rc == 0, err


def test_devices_are_refused(tmp_path):
    model = tmp_path / "m.opt"
    model.write_text('set S; param p {S}; table T IN "CSV" "/dev/zero": S <- [a];\nvar x; minimize o: x;\n')
    rc, _, err = run("check", str(model))
    assert rc == 2 and "m.opt:1:21:" in err
    model.write_text("set S; var x; minimize o: x;\n")
    rc, _, err = run("check", str(model), "--data", "/dev/zero")
    assert rc == 2  # a command-line data file must still be a regular file of a known kind
    with pytest.raises(files.FileError, match="not a regular file"):
        files.read_text("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "t.csv"
    os.mkfifo(fifo)
    model = tmp_path / "m.opt"
    model.write_text('set S; param d {S}; table T IN "CSV" "t.csv": S <- [K], d;\nvar x; minimize o: x;\n')
    box = {}
    worker = threading.Thread(target=lambda: box.update(r=run("check", str(model))), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "reading a FIFO blocked"
    rc, _, err = box["r"]
    assert rc == 2 and "not a regular file" in err


def test_the_size_cap(tmp_path, monkeypatch):
    data = tmp_path / "d.dat"
    data.write_text("set I := a b c;\n" + "#" * 5000 + "\n")
    model = tmp_path / "m.opt"
    model.write_text('set I; var x {I}; minimize o: sum {i in I} x[i];\ndata "d.dat";\n')
    monkeypatch.setenv("OPTDSL_MAX_READ_BYTES", "1000")
    rc, _, err = run("check", str(model))
    assert rc == 2 and "over the limit of 1000 bytes" in err and "m.opt:2:1:" in err
    monkeypatch.delenv("OPTDSL_MAX_READ_BYTES")
    assert run("check", str(model))[0] == 0


def test_hidden_files_are_not_read(tmp_path):
    (tmp_path / ".secret.dat").write_text("set I := a;\n")
    model = tmp_path / "m.opt"
    model.write_text('set I; var x {I}; minimize o: sum {i in I} x[i];\ndata ".secret.dat";\n')
    rc, _, err = run("check", str(model))
    assert rc == 2 and "hidden files" in err


def test_binary_data_is_not_echoed(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"K,d\nsecret\x00value,1\n")
    model = tmp_path / "m.opt"
    model.write_text('set S; param d {S}; table T IN "CSV" "t.csv": S <- [K], d;\nvar x; minimize o: x;\n')
    rc, _, err = run("check", str(model))
    assert rc == 2 and "not a text file" in err
    assert "secret" not in err


def test_nul_byte_in_a_data_path(tmp_path):
    model = tmp_path / "m.opt"
    model.write_text('set I; var x; minimize o: x;\ndata "nul\\x00.dat";\n'.replace("\\x00", "\x00"))
    rc, _, err = run("check", str(model))
    assert rc == 2 and "m.opt:2:" in err


# --- atomic writes -----------------------------------------------------------------------------


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text('{"good": 1}\n')
    seen = []

    def failing_fsync(fd):
        seen.append(target.read_text())  # mid-write: the target still holds the old result
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        files.atomic_write(target, '{"new": 2}\n')
    assert target.read_text() == '{"good": 1}\n'
    assert seen == ['{"good": 1}\n']
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_result_file_is_replaced_atomically(tmp_path, monkeypatch):
    model = Path(__file__).resolve().parents[1] / "examples" / "transport.opt"
    target = tmp_path / "r.json"
    target.write_text("previous good result\n")
    real_replace = os.replace
    calls = []

    def spy(src, dst):
        calls.append((Path(src).parent, Path(dst)))
        assert target.read_text() == "previous good result\n"
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    rc, _, err = run("solve", str(model), "-o", str(target))
    assert rc == 0, err
    assert calls == [(tmp_path, target)]
    import json

    assert json.loads(target.read_text())["status"] == "optimal"  # -o r.json writes JSON


def test_convert_is_atomic(tmp_path):
    model = Path(__file__).resolve().parents[1] / "examples" / "transport.opt"
    out = tmp_path / "t.mps"
    rc, _, err = run("convert", str(model), "-o", str(out))
    assert rc == 0, err
    assert out.read_text().startswith(("NAME", "*"))
    assert [p.name for p in tmp_path.iterdir()] == ["t.mps"]


def test_outputs_api_appends_within_a_run(tmp_path):
    outs = files.Outputs(tmp_path)
    outs.write("log.txt", "a\n")
    outs.write("log.txt", "b\n", append=True)
    outs.write("other.txt", "x\n")
    outs.write("other.txt", "y\n")  # `>` again without append: starts over
    assert sorted(p.name for p in outs.commit()) == ["log.txt", "other.txt"]
    assert (tmp_path / "log.txt").read_text() == "a\nb\n"
    assert (tmp_path / "other.txt").read_text() == "y\n"
    with pytest.raises(files.FileError, match="hidden"):
        outs.write(".profile.txt", "x")


def test_decoding_errors_are_located_without_content():
    with pytest.raises(files.FileError) as e:
        files.decode_text(b"line one\nab\xffcd secret\n", "x.dat")
    text = e.value.render()
    assert text.startswith("x.dat:2:3: error:") and "secret" not in text
    assert sys.getdefaultencoding() == "utf-8"
