"""The expression parser and the ``chainrule`` command (grad, bench, exit codes)."""
import math
import os
import re
import subprocess
import sys

import pytest

import chainrule
import chainrule.viz
from chainrule import cli
from chainrule._expr import ExprError, evaluate, parse, variables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- parser ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("8 / 4 / 2", 1.0),                 # left-associative
    ("10 - 4 - 3", 3.0),
    ("2 ** 3 ** 2", 512.0),             # right-associative
    ("2 ^ 3", 8.0),                     # ^ is **
    ("-2 ** 2", -4.0),                  # unary minus binds looser than **
    ("2 ** -1", 0.5),
    ("--3", 3.0),
    ("+4 - -1", 5.0),
    ("3 * -2", -6.0),
    ("1e2 + .5", 100.5),
    ("2 * pi", 2 * math.pi),
    ("e", math.e),
])
def test_numbers_follow_python_precedence(text, expected):
    assert evaluate(parse(text), {}) == pytest.approx(expected)


def test_tree_shape():
    assert parse("-x**2") == ("neg", ("**", ("var", "x"), ("num", 2.0)))
    assert parse("a - b * c") == ("-", ("var", "a"), ("*", ("var", "b"), ("var", "c")))
    assert parse("max(x, 2*y)") == ("call", "max", ("var", "x"),
                                    ("*", ("num", 2.0), ("var", "y")))
    assert variables(parse("y * sin(x) + y")) == ["y", "x"]


@pytest.mark.parametrize("text, x, expected", [
    ("5*x**2 + 3", 2.0, 23.0),
    ("sin(x) * exp(-x)", 0.7, math.sin(0.7) * math.exp(-0.7)),
    ("log(sqrt(x)) + tanh(x)", 3.0, math.log(math.sqrt(3.0)) + math.tanh(3.0)),
    ("sigmoid(x) + relu(-x) + abs(-x)", 1.5, 1 / (1 + math.exp(-1.5)) + 0 + 1.5),
    ("pow(x, 3) / min(x, 1) + max(x, 10)", 2.0, 8.0 + 10.0),
])
def test_functions(text, x, expected):
    t = chainrule.tensor(x, dtype=chainrule.float64)
    assert evaluate(parse(text), {"x": t}).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("5x", "write multiplication explicitly"),
    ("x +", "unexpected end"),
    ("(x", "expected ')'"),
    ("x)", "unexpected ')'"),
    ("x $ 2", "unexpected character '$'"),
    ("foo(x)", "unknown function 'foo'"),
    ("__import__(x)", "unknown function '__import__'"),
    ("sin x", "needs parentheses"),
    ("sin(x, y)", "takes 1 argument"),
    ("pow(x)", "takes 2 arguments"),
    ("* 2", "unexpected '*'"),
    ("x.real", "unexpected character '.'"),
    ("(" * 5000 + "x" + ")" * 5000, "nested too deeply"),
])
def test_bad_input(text, message):
    with pytest.raises(ExprError, match=re.escape(message)):
        parse(text)


def test_unknown_variable_and_numbers_never_raise():
    with pytest.raises(ExprError, match="no value for variable 'z'"):
        evaluate(parse("x + z"), {"x": 1.0})
    assert evaluate(parse("1 / 0"), {}) == math.inf
    assert evaluate(parse("9 ** 9 ** 9"), {}) == math.inf     # no huge integers


# -- chainrule grad ----------------------------------------------------------------------------
def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_grad_value_gradient_hessian(capsys):
    code, out, err = run(capsys, "grad", "5*x**2 + 3", "--at", "x=2", "--order", "2")
    assert code == 0 and err == ""
    assert out.splitlines() == ["f(x) = 5*x**2 + 3", "at x = 2", "f = 23", "df/dx = 20",
                                "d2f/dx2 = 10"]


def test_grad_two_variables(capsys):
    code, out, _ = run(capsys, "grad", "x*y + sin(x)", "--at", "x=2,y=pi", "--order", "2")
    lines = dict(line.split(" = ", 1) for line in out.splitlines()[2:])
    assert code == 0
    assert float(lines["f"]) == pytest.approx(2 * math.pi + math.sin(2))
    assert float(lines["df/dx"]) == pytest.approx(math.pi + math.cos(2))
    assert float(lines["df/dy"]) == pytest.approx(2)
    assert float(lines["d2f/dx2"]) == pytest.approx(-math.sin(2))
    assert float(lines["d2f/dxdy"]) == float(lines["d2f/dydx"]) == 1
    assert float(lines["d2f/dy2"]) == 0


@pytest.mark.parametrize("argv", [["grad", "-x**3", "--at", "x=2"],
                                  ["grad", "--at", "x=2", "-x**3"],
                                  ["grad", "--at", "x=2", "--", "-x**3"]])
def test_expression_starting_with_minus_is_not_an_option(capsys, argv):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "df/dx = -12" in out.splitlines()


def test_grad_explain_and_draw_dot(capsys, tmp_path):
    path = tmp_path / "g.dot"
    code, out, _ = run(capsys, "grad", "5*x**2 + 3", "--at", "x=2", "--explain",
                       "--draw", str(path))
    assert code == 0
    assert "  df/dx = df/du1 * du1/dx = 5 * 4 = 20" in out.splitlines()
    src = path.read_text()
    assert src.startswith("digraph") and "Pow" in src and 'label="x = 2' in src


def test_grad_draw_without_graphviz_writes_dot(capsys, tmp_path, monkeypatch):
    from chainrule.viz import _draw
    monkeypatch.setattr(_draw.shutil, "which", lambda name: None)
    code, out, err = run(capsys, "grad", "x**3", "--at", "x=1", "--draw",
                         str(tmp_path / "g.svg"))
    assert code == 0
    assert "apt-get install graphviz" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(chainrule.viz.dot_available() is None,
                    reason="Graphviz's `dot` is not installed (apt-get install graphviz)")
def test_grad_draw_svg(capsys, tmp_path):
    code, _, _ = run(capsys, "grad", "x*y", "--at", "x=2", "--at", "y=3", "--draw",
                     str(tmp_path / "g.svg"))
    svg = (tmp_path / "g.svg").read_text()
    assert code == 0 and "<svg" in svg and "Mul" in svg and "f = 6" in svg


@pytest.mark.parametrize("argv, message", [
    (["grad", "5x", "--at", "x=1"], "bad expression"),
    (["grad", "x +* 2", "--at", "x=1"], "bad expression"),
    (["grad", "x**2"], "no value for x"),
    (["grad", "x**2", "--at", "z=1"], "unknown variable 'z'"),
    (["grad", "x**2", "--at", "x"], "NAME=VALUE"),
    (["grad", "x**2", "--at", "x=two"], "bad value for x"),
    (["grad", "x**2", "--at", "x=1", "--order", "3"], "invalid choice"),
    (["grad", "x**2", "--at", "x=1", "--draw", "g.txt"], "--draw needs"),
    (["grad", "x**2", "--at", "x=1", "--bogus"], "unrecognized arguments"),
    (["frobnicate"], "invalid choice"),
    (["train", "mnist"], "invalid choice"),
    (["train", "digits", "--model", "rnn"], "invalid choice"),
    (["train", "digits", "--epochs", "0"], "--epochs"),
    (["bench", "no_such_workload"], "unknown workload"),
])
def test_errors_are_one_line_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert "Traceback" not in err


@pytest.mark.parametrize("sub", [[], ["grad"], ["train"], ["bench"]])
def test_help_on_every_subcommand(capsys, sub):
    with pytest.raises(SystemExit) as e:
        cli.main(sub + ["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: chainrule")


def test_console_script_runs_as_a_process():
    env = dict(os.environ, PYTHONPATH=ROOT)
    ok = subprocess.run([sys.executable, "-m", "chainrule.cli", "grad", "x**2", "--at", "x=3"],
                        capture_output=True, text=True, env=env, cwd=ROOT)
    assert ok.returncode == 0 and "df/dx = 6" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "chainrule.cli", "grad", "x**"],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_entry_point_is_declared():
    text = open(os.path.join(ROOT, "pyproject.toml")).read()
    assert 'chainrule = "chainrule.cli:main"' in text


# -- chainrule bench ---------------------------------------------------------------------------
def test_bench_prints_the_ratio_table(capsys, monkeypatch):
    from chainrule import benchmarks

    def floor():
        return lambda: sum(range(10))

    def ours():
        return lambda: sum(range(20))

    def missing():
        raise ImportError("not installed")
    fake = [benchmarks.Workload("tiny_sum", {"numpy": floor, "chainrule": ours,
                                             "torch": missing}, target="<= 3x",
                                quick_repeat=2)]
    monkeypatch.setattr(benchmarks, "all_workloads", lambda: fake)
    code, out, _ = run(capsys, "bench", "--quick")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("tiny_sum"))
    cells = row.split()
    assert cells[1] == "1.00x" and cells[3] == "-" and row.rstrip().endswith("<= 3x")
    code, out, _ = run(capsys, "bench", "--quick", "--libs", "torch", "tiny")
    row = next(line for line in out.splitlines() if line.startswith("tiny_sum"))
    assert code == 0 and row.split()[1:3] == ["1.00x", "-"]     # chainrule left out


# -- chainrule train ---------------------------------------------------------------------------
def test_train_digits_one_epoch_then_resume(capsys, tmp_path):
    for mod in ("sklearn", "matplotlib", "tqdm", "safetensors"):
        pytest.importorskip(mod)
    out_dir = str(tmp_path / "run")
    code, out, _ = run(capsys, "train", "digits", "--epochs", "1", "--out", out_dir)
    assert code == 0
    assert re.search(r"test accuracy: \d+\.\d\d% \(\d+/360\) after 1 epochs \(cnn\)", out)
    ckpt, png = tmp_path / "run" / "digits-cnn.ckpt", tmp_path / "run" / "digits-cnn.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = chainrule.load(str(ckpt))
    steps = float(state["optimizer"]["state"][0]["step"])
    assert steps == math.ceil(1437 / 64) and [h["epoch"] for h in state["history"]] == [1]

    code, out, _ = run(capsys, "train", "digits", "--epochs", "1", "--out", out_dir,
                       "--resume")
    assert code == 0 and "after 2 epochs (cnn)" in out
    state = chainrule.load(str(ckpt))
    # the optimizer continued from the checkpoint: its step count kept growing
    assert float(state["optimizer"]["state"][0]["step"]) == 2 * steps
    assert [h["epoch"] for h in state["history"]] == [1, 2]

    code, _, err = run(capsys, "train", "digits", "--model", "mlp", "--epochs", "1",
                       "--out", out_dir, "--resume")
    assert code == 2 and "no checkpoint" in err


def test_bench_names_select_by_case_insensitive_substring():
    from chainrule import benchmarks
    names = [w.name for w in benchmarks.all_workloads()]
    picked = [n for n in names if benchmarks.selected(n, ["TINY"])]
    assert picked == ["tiny ops (100x tanh(x*w+0.1))"]
    assert all(benchmarks.selected(n, None) for n in names)
    assert not any(benchmarks.selected(n, ["no_such_workload"]) for n in names)
