"""AMPL/GMPL constructs that real model files use, each in a small model whose answer is worked
out by hand (in the comment beside it)."""

from __future__ import annotations

import pytest

from optdsl.api.model import parse_model
from optdsl.errors import OptdslError


def solve(text: str):
    r = parse_model(text).solve()
    assert r.status.value == "optimal", r.message
    return r


def test_block_comments_in_data_sections():
    r = solve("""
set I; param c {I}; var x {I} >= 1;
minimize z: sum {i in I} c[i] * x[i];
data;
/* a comment before the first statement; with a semicolon */
set I := a b /* inside a set */ c;
param c := a 1  /* thousands */  b 2
  /* a comment
     over lines; */
  c 3;
end;
""")
    assert r.objective == pytest.approx(6.0)  # every x at its bound 1


def test_unterminated_block_comment_in_data_is_located():
    with pytest.raises(OptdslError) as err:
        _ = parse_model("set I; var x; minimize z: x;\ndata;\nset I := a b; /* no end\n").ir
    assert "line 3" in err.value.render() or ":3:" in err.value.render()


@pytest.mark.parametrize("decl", [
    "set J 'products';",
    "set J 'products' within I;",
    "param p 'unit profit' {I} >= 0, default 2;",
    "var y 'cars stored' {I} >= 0, <= 1;",
    "maximize total 'the profit': sum {i in I} p[i] * y[i];",
    "subject to cap 'capacity': sum {i in I} y[i] <= 1.5;",
    "s.t. cap 'capacity' {i in I}: y[i] <= 0.75;",
    "cap 'capacity' {i in I}: y[i] <= 0.75;",
])
def test_alias_strings_on_every_declaration(decl):
    parts = ["set I := {1, 2};", "set J within I;", "param p {I} >= 0, default 2;", "var y {I} >= 0, <= 1;",
             "maximize total: sum {i in I} p[i] * y[i];"]
    replace = {"set": 1, "param": 2, "var": 3, "maximize": 4}.get(decl.split()[0])
    if replace is not None:
        parts[replace] = decl
    else:
        parts.append(decl)
    r = solve("\n".join(parts) + "\ndata; set J := 1; end;\n")
    # no cap: both y at 1, profit 2 + 2; the total cap 1.5 or the per-item cap 0.75: profit 3
    assert r.objective == pytest.approx(4.0 if replace is not None else 3.0)


def test_and_or_stop_at_the_left_operand():
    # q has data only for (a,b): q[d,w] is read only where d <> w, as AMPL and glpsol do.
    r = solve("""
set D := {"a", "b"};
param q {D, D};
set R := {d in D, w in D: d <> w and q[d,w] > 0};
set S := {d in D, w in D: d = w or q[d,w] > 5};
var x {R} >= 0, <= 1;
var y {S} >= 0, <= 1;
maximize z: sum {(d,w) in R} x[d,w] + 10 * sum {(d,w) in S} y[d,w];
data;
param q := a b 3  b a 0;
end;
""")
    assert r.objective == pytest.approx(1 + 20)  # R = {(a,b)}; S = {(a,a), (b,b)}


def test_if_then_else_reads_only_its_branch():
    r = solve("""
set I := 1..3;
param p {I};
param v {i in I} := if i = 2 then 7 else p[i];
var x >= 0, <= 1;
maximize z: sum {i in I} v[i] * x;
data; param p := 1 1  3 2; end;
""")
    assert r.objective == pytest.approx(10.0)


def test_membership_in_an_indexed_set_of_a_dummy():
    # egypt.mod's p_cap: {pr in proc: forall {u in unit: util[u,pr] > 0} u in m_pos[pl]}
    r = solve("""
set plant := {"p1", "p2"};
set unit := {"u1", "u2"};
set proc := {"r1", "r2"};
param icap {unit, plant};
param util {unit, proc};
set m_pos {pl in plant} := {u in unit: icap[u,pl] > 0};
set p_cap {pl in plant} := {pr in proc: forall {u in unit: util[u,pr] > 0} u in m_pos[pl]};
var x {pl in plant, pr in p_cap[pl]} >= 0, <= 1;
maximize z: sum {pl in plant, pr in p_cap[pl]} x[pl,pr];
data;
param icap :  p1 p2 :=
          u1  1  1
          u2  0  1 ;
param util :  r1 r2 :=
          u1  1  0
          u2  1  1 ;
end;
""")
    # p1 has only u1, so no process (both need u2); p2 has both units: r1 and r2
    assert r.objective == pytest.approx(2.0)


def test_not_in_an_indexed_set_of_a_dummy():
    r = solve("""
set I := 1..4;
set E {i in I} := {j in I: j <= i};
var x {i in I, j in I: j not in E[i]} >= 0, <= 1;
maximize z: sum {i in I, j in I: j not in E[i]} x[i,j];
""")
    assert r.objective == pytest.approx(6.0)  # pairs j > i among 1..4


def test_slice_without_star_gives_one_value():
    # egypt.mod: `param p_pr default 0.0 := [HELWAN,COKE_GAS] 16.0 [*,LIMESTONE] ASWAN 1.2 ...`
    r = solve("""
set P; set C;
param pr {P, C} default 0;
var x {P, C} >= 0, <= 1;
maximize z: sum {p in P, c in C} pr[p,c] * x[p,c];
data;
set P := helwan aswan;
set C := coke lime;
param pr default 0.0 :=
 [helwan,coke]   16.0
 [aswan,lime]     1.0
 [*,coke]  aswan  2.5 ;
end;
""")
    assert r.objective == pytest.approx(16 + 1 + 2.5)


# --- after `solve;` -----------------------------------------------------------------------------
POST = """
set I := 1..3;
var x {i in I} >= 0, <= i;
maximize z: sum {i in I} x[i];
subject to cap: sum {i in I} x[i] <= 4;
solve;
param total := sum {i in I} x[i];
param vals {i in I} := x[i].val * 10;
set used := {i in I: x[i] > 0.5};
printf "total %g used %d dual %g body %g slack %g ub %g lb %g\\n", total, card(used), cap.dual, cap.body,
    cap.slack, x[2].ub, x[2].lb;
printf {i in I: x[i].val > 0.5} "x[%d] = %g (%g)\\n", i, x[i], vals[i];
printf "z %g\\n", z.val;
"""


def test_declarations_and_suffixes_after_solve(capsys, tmp_path):
    from optdsl.cli import main

    path = tmp_path / "post.opt"
    path.write_text(POST)
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "total 4 used " in out  # 4 units over x1 <= 1, x2 <= 2, x3 <= 3
    assert "dual 1 body 4 slack 0 ub 2 lb 0" in out  # d z*/d cap = 1
    assert "z 4\n" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("x[")]
    assert all(float(ln.split("= ")[1].split()[0]) * 10 == float(ln.split("(")[1].rstrip(")")) for ln in lines)


def test_suffix_before_solve_is_refused():
    with pytest.raises(OptdslError) as err:
        _ = parse_model("var x >= 0; minimize z: x; param p := x.val;").ir
    assert "has a value only after a solve" in err.value.render()


def test_unknown_suffix_is_named():
    with pytest.raises(OptdslError) as err:
        _ = parse_model("var x >= 0; minimize z: x; solve; display x.dula;").ir
    assert "'.dula' is not a suffix of a variable" in err.value.render()


def test_indexing_expression_of_sets_is_their_product():
    # hashi.mod: set V := {(i,j) in {rows, cols}: givens[i,j] != 0};
    r = solve("""
set rows := 1..2; set cols := 1..3;
param g {rows, cols} default 0;
set V := {(i,j) in {rows, cols}: g[i,j] != 0};
var x {V} >= 0, <= 1;
maximize z: sum {(i,j) in V} x[i,j];
data; param g := 1 2 5  2 3 1; end;
""")
    assert r.objective == pytest.approx(2.0)


# --- params defined in terms of themselves (GLPK's bpp.mod, color.mod, powplant.mod) --------------
def test_recursive_param_value():
    # first-fit bin packing, as bpp.mod estimates its bins: weights 4 3 3 2, capacity 6
    r = parse_model("""
set I := 1..4; param w {I}; param c := 6; param m := 4;
param z {i in I, j in 1..m} :=
   if i = 1 and j = 1 then 1
   else if exists {jj in 1..j-1} z[i,jj] then 0
   else if sum {ii in 1..i-1} w[ii] * z[ii,j] + w[i] > c then 0
   else 1;
param used := sum {j in 1..m} (if exists {i in I} z[i,j] then 1);
var x >= 0; minimize o: used * x + used; s.t. k: x >= 0;
data; param w := 1 4 2 3 3 3 4 2; end;
""").solve()
    assert r.objective == pytest.approx(2.0)  # first fit: 4 -> bin 1, 3 -> bin 2, 3 -> bin 2, 2 -> bin 1


def test_recursive_param_default_with_data():
    # powplant.mod's BOUND: a default that reads earlier periods of itself
    r = solve("""
set T := 1..4;
param b {t in T} default b[t-1] * 2;
var x {t in T} >= 0, <= b[t];
maximize z: sum {t in T} x[t];
data; param b := 1 3; end;
""")
    assert r.objective == pytest.approx(3 + 6 + 12 + 24)


def test_recursive_param_cycle_is_an_error():
    with pytest.raises(OptdslError) as err:
        _ = parse_model("set T := 1..2; param b {t in T} := b[3 - t]; var x; minimize o: x;").ir
    assert "defined in terms of itself in a cycle" in err.value.render()


# --- statements ---------------------------------------------------------------------------------
def test_printf_with_a_computed_format(capsys, tmp_path):
    from optdsl.cli import main

    path = tmp_path / "p.opt"
    path.write_text("""set J := 1..3; var x {J} >= 0, <= 1; maximize z: sum {j in J} x[j];
solve;
for {j in J} printf (if j = 1 then "" else " + ") & "%g x%d", x[j], j;
printf("\\n");
check {j in J} x[j] <= 1;
check: card(J) = 3;
""")
    assert main(["solve", str(path)]) == 0
    assert "1 x1 + 1 x2 + 1 x3\n" in capsys.readouterr().out


def test_check_without_colon_fails_with_its_index():
    with pytest.raises(OptdslError) as err:
        _ = parse_model("set I := 1..3; param p {i in I} := i; check {i in I} p[i] < 3; var x; minimize o: x;").ir
    assert "check failed for [3]" in err.value.render()


def test_statement_words_name_params():
    r = solve("""set C := {"a", "b"}; param data {C, {"price"}};
var x {C} >= 1; minimize cost: sum {c in C} data[c, "price"] * x[c];
data; param data := a price 2  b price 3; end;""")
    assert r.objective == pytest.approx(5.0)


def test_time_functions(capsys, tmp_path):
    # 2010-01-01 00:00:00 UTC is 1262304000 s after the epoch, a Friday; cal.mod's first_day idiom
    from optdsl.cli import main

    path = tmp_path / "t.opt"
    path.write_text("""param t := str2time("2010-01-01", "%Y-%m-%d");
param first_day := time2str(t, "%w");
param m3 := str2time("3", "%m");
var x; minimize o: x; s.t. c: x = 0;
solve;
printf "%d %s %d %s %d\\n", t, time2str(t, "%A %d %B %Y"), first_day, time2str(m3, "%B %Y"), gmtime() > 1.7e9;
""")
    assert main(["solve", str(path)]) == 0
    assert "1262304000 Friday 01 January 2010 5 March 1970 1\n" in capsys.readouterr().out


def test_str2time_bad_text_is_located():
    with pytest.raises(OptdslError) as err:
        _ = parse_model('param t := str2time("2010-13-01", "%Y-%m-%d"); var x; minimize o: x;').ir
    assert "str2time('2010-13-01', '%Y-%m-%d')" in err.value.render() and ":1:" in err.value.render()


def test_param_defined_with_equals():
    # AMPL's `param supply {k in CITIES} = if k = p_city then p_supply else 0;` (net2.mod); with
    # data, GMPL's `= expr` is a condition the data must meet
    r = solve("""set C := {"a", "b"}; param p := 3; param s {k in C} = if k = "a" then p else 0;
param q = 2; param r {C} = 1;
var x {C} >= 0; minimize o: sum {k in C} (s[k] + q) * x[k]; s.t. c {k in C}: x[k] >= r[k];
data; param r := a 1 b 1; end;""")
    assert r.objective == pytest.approx((3 + 2) + (0 + 2))
    with pytest.raises(OptdslError) as err:
        _ = parse_model("set C := {1}; param r {C} = 1; var x; minimize o: x; data; param r := 1 2; end;").ir
    assert "violates" in err.value.render()


def test_scalar_param_in_a_tuple_is_a_slice():
    # netmax.mod: maximize Entering_Traff: sum {(entr,j) in ROADS} Traff[entr,j];
    r = solve("""set N := {"a", "b", "c"}; set R within N cross N; param entr symbolic in N;
var t {R} >= 0, <= 1;
maximize z: sum {(entr, j) in R} t[entr, j] + 0.5 * sum {(i, j) in R} t[i, j];
data; set R := (a, b) (a, c) (b, c); param entr := a; end;""")
    assert r.objective == pytest.approx(2 + 1.5)


def test_text_after_end_is_ignored():
    r = solve("var x >= 1; minimize o: x;\nend;\nanything ( { at all\n")
    assert r.objective == pytest.approx(1.0)


@pytest.mark.parametrize(("text", "message"), [
    ("var x; minimize o: x; s.t. c: x >= 0 complements x >= 0;", "complementarity constraints (complements)"),
])
def test_unsupported_ampl_constructs_are_named(text, message):
    with pytest.raises(OptdslError) as err:
        _ = parse_model(text).ir
    assert message in err.value.message and err.value.span is not None


def test_indexed_objective_and_objective_selection(tmp_path):
    data = tmp_path / "steel.dat"
    data.write_text("set I := a b; param c := a 1 b 5;\n")
    text = 'set I; param c {I}; var x >= 1; minimize o {i in I}: c[i] * x;\n{select}data steel.dat;\n'
    first = tmp_path / "first.mod"
    first.write_text(text.replace("{select}", ""))
    chosen = tmp_path / "chosen.mod"
    chosen.write_text(text.replace("{select}", 'objective o["b"];\n'))
    from optdsl.api.model import load

    assert load(first).solve().objective == pytest.approx(1.0)  # AMPL: the first member
    assert load(chosen).solve().objective == pytest.approx(5.0)


def test_objective_selection_of_a_scalar_objective():
    r = solve("var x >= 1, <= 3; minimize lo: x; maximize hi: x; objective hi;")
    assert r.objective == pytest.approx(3.0)


def test_within_in_conditions():
    r = solve("""set I := 1..4; set D {i in I} := 1..i; set S := 1..2;
var x {i in I: D[i] within S} >= 0, <= 1; maximize z: sum {i in I: D[i] within S} x[i] + (if S within I then 10);""")
    assert r.objective == pytest.approx(2 + 10)  # D[1], D[2] lie within S


def test_var_initial_values_in_data_and_whole_suffix_display(capsys, tmp_path):
    from optdsl.api.model import parse_model as pm
    from optdsl.cli import main

    text = """set I; var x {I} >= -5, <= 5; minimize o: sum {i in I} x[i]; s.t. c {i in I}: x[i] >= -1;
solve; display x.init, x.val, c.dual;
data; set I := a b; var x := a 2 b 3; end;
"""
    assert list(pm(text).ir.var("x").init) == [2.0, 3.0]
    path = tmp_path / "v.mod"
    path.write_text(text)
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "x[a].init = 2\nx[b].init = 3\nx[a].val = -1\nx[b].val = -1\nc[a].dual = 1\nc[b].dual = 1\n" in out


PRINTF_TO_FILES = """set J := 1..3; var x {j in J} >= 0, <= j; maximize z: sum {j in J} x[j];
param out symbolic := "sol.txt";
solve;
printf "z = %g\\n", z > out;
for {j in J} printf "x[%d] = %g\\n", j, x[j] >> out;
printf {j in J: j >= 2} "%d ", j > "big.txt";
printf "\\n" > "big.txt";
display x > "shown.txt";
printf "on the screen\\n";
"""


def test_printf_and_display_to_files(capsys, tmp_path, monkeypatch):
    from optdsl.cli import main

    monkeypatch.setenv("OPTDSL_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "m.mod"
    path.write_text(PRINTF_TO_FILES)
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "on the screen" in out and "z = " not in out and "x[1] = 1" not in out
    assert (tmp_path / "sol.txt").read_text() == "z = 6\nx[1] = 1\nx[2] = 2\nx[3] = 3\n"
    # AMPL: a second `>` to the same file in one run continues it
    assert (tmp_path / "big.txt").read_text() == "2 3 \n"
    assert (tmp_path / "shown.txt").read_text() == "x[1] = 1\nx[2] = 2\nx[3] = 3\n"
    # a second run replaces its own earlier outputs; `>>` continues a file from an earlier run
    assert main(["solve", str(path)]) == 0
    assert (tmp_path / "sol.txt").read_text() == "z = 6\nx[1] = 1\nx[2] = 2\nx[3] = 3\n"
    path.write_text(PRINTF_TO_FILES.replace('"%d ", j > "big.txt"', '"%d ", j >> "big.txt"'))
    assert main(["solve", str(path)]) == 0
    assert (tmp_path / "big.txt").read_text() == "2 3 \n2 3 \n"


@pytest.mark.parametrize("target, message", [
    ('"../escape.txt"', "outside"),
    ('"run.sh"', "only data and text files"),
    ('"mine.txt"', "not an earlier output"),
])
def test_printf_files_follow_the_file_rules(target, message, capsys, tmp_path, monkeypatch):
    from optdsl.cli import main

    monkeypatch.setenv("OPTDSL_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mine.txt").write_text("the user's own notes\n")
    path = tmp_path / "m" / "p.mod"
    path.write_text(f'var x >= 1; minimize z: x; solve; printf "%g\\n", x > {target};\n')
    monkeypatch.chdir(tmp_path / "m")
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "p.mod:1:" in err
    assert (tmp_path / "m" / "mine.txt").read_text() == "the user's own notes\n"
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "m" / "run.sh").exists()


def test_printf_ignores_arguments_beyond_its_format(capsys, tmp_path):
    from optdsl.cli import main

    path = tmp_path / "e.mod"
    path.write_text('param a := 4; printf "%d\\n", a, 7; printf "%d %d\\n", a;\n')
    assert main(["solve", str(path)]) == 2
    cap = capsys.readouterr()
    assert cap.out.startswith("4\n") or "4\n" in cap.out
    assert "2 conversion(s) but 1 argument(s)" in cap.err


def test_indexing_expression_with_a_single_value_and_a_literal_set(capsys, tmp_path):
    # GMPL: in `{c, 1}` the number stands for the set {1}; glpsol prints 1 1, 2 1, 3 1, then c × {7, 8}
    from optdsl.cli import main

    path = tmp_path / "s.mod"
    path.write_text("""set c := 1..3;
for {(a, b) in {c, 1}}: printf "%d %d\\n", a, b;
for {(a, b) in {c, {7, 8}}}: { printf "%d", a; printf "%d\\n", b; }
param n := card({c, 1, c});
printf "%d\\n", n;
end;
""")
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 1\n2 1\n3 1\n17\n18\n27\n28\n37\n38\n9\n" in out


def test_prod_names_a_set_unless_it_is_followed_by_an_indexing():
    # the AMPL book's bigprod.mod: `set prod;` beside the iterated product prod {…}
    r = solve("""set prod := 1..3; var x {prod} >= 1;
minimize z: sum {p in prod} x[p] + prod {i in prod} i;""")
    assert r.objective == pytest.approx(3 + 6)


def test_infinity_in_variable_bounds():
    # the AMPL book's score.mod: `>= if … then 0 else -Infinity`
    r = solve("""set J := 1..2; param sign {j in J} symbolic := if j = 1 then 'pos' else 'free';
var w {j in J} >= if sign[j] = 'pos' then 0 else -Infinity, <= +Infinity;
minimize z: sum {j in J} (w[j] + 3)^2;""")
    assert r.value("w").tolist() == pytest.approx([0.0, -3.0], abs=1e-6)  # the first is held at its bound 0
