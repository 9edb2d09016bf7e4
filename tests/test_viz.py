"""chainrule.viz: DOT structure of draw(), explain() arithmetic, record(), rendering."""
import io
import re

import numpy as np
import pytest

import chainrule
import chainrule.viz as viz
from chainrule.autograd import function as F


def nodes(src):
    """{dot id: label} of the node statements."""
    return dict(re.findall(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"', src, re.M))


def edges(src, color):
    """[(a, b, label)] of the edges drawn in ``color``."""
    out = []
    for a, b, attrs in re.findall(r"^\s*(\w+) -> (\w+) \[(.*)\]$", src, re.M):
        if f'color="{color}"' in attrs:
            m = re.search(r'label="((?:[^"\\]|\\.)*)"', attrs)
            out.append((a, b, m.group(1) if m else None))
    return out


def by_label(ns, prefix):
    hits = [k for k, v in ns.items() if v.startswith(prefix)]
    assert len(hits) == 1, (prefix, ns)
    return hits[0]


def quad(record=True, backward=True):
    x = chainrule.tensor(2.0, requires_grad=True)
    x.name = "x"
    if record:
        with viz.record():
            y = 5 * x ** 2 + 3
            if backward:
                y.backward()
    else:
        y = 5 * x ** 2 + 3
        if backward:
            y.backward()
    return x, y


# -- draw: structure ---------------------------------------------------------------------------
def test_draw_quadratic_nodes_and_forward_edges():
    x, y = quad()
    src = viz.draw(y).source
    ns = nodes(src)
    xid, pw, mul, add = (by_label(ns, p) for p in ("x = 2", "Pow", "Mul", "Add"))
    assert "u1 () = 4" in ns[pw] and "u2 () = 20" in ns[mul] and "y () = 23" in ns[add]
    fwd = edges(src, "black")
    # x -> Pow -> Mul -> Add -> output, each edge carrying the value that flows on it
    assert (xid, pw, "2") in fwd and (pw, mul, "4") in fwd and (mul, add, "20") in fwd
    assert (add, "out", "23") in fwd
    assert ns["out"] == "y = 23"
    # the constants 2, 5, 3 enter as plain nodes
    consts = {ns[a] for a, b, _ in edges(src, "gray60")}
    assert consts == {"2", "5", "3"}


def test_draw_backward_edges_carry_gradients():
    x, y = quad()
    src = viz.draw(y).source
    ns = nodes(src)
    xid, pw, mul, add = (by_label(ns, p) for p in ("x = 2", "Pow", "Mul", "Add"))
    back = edges(src, "darkorange")
    # d y/d u2 = 1, d y/d u1 = 5, d y/d x = 5 * 2x = 20; the seed dy/dy = 1
    assert set(back) == {(mul, add, "1"), (pw, mul, "5"), (xid, pw, "20"), (add, "out", "1")}
    assert all('dir="back"' in line for line in src.splitlines() if "darkorange" in line)
    assert "grad 20" in ns[xid]


def test_no_backward_edges_before_backward_or_when_hidden():
    x, y = quad(backward=False)
    assert edges(viz.draw(y).source, "darkorange") == []
    x, y = quad()
    assert edges(viz.draw(y, show_grads=False).source, "darkorange") == []


def test_draw_without_record_labels_shapes_and_leaf_grads():
    x, y = quad(record=False)
    src = viz.draw(y).source
    ns = nodes(src)
    xid, pw = by_label(ns, "x = 2"), by_label(ns, "Pow")
    fwd = edges(src, "black")
    assert (pw, by_label(ns, "Mul"), "()") in fwd            # value unknown: its shape
    assert (xid, pw, "2") in fwd                                # leaves know their value
    assert edges(src, "darkorange") == [(xid, pw, "20")]        # from x.grad


def test_names_dict_auto_names_and_output_name():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([3.0, 4.0], requires_grad=True)
    c = chainrule.tensor(0.5, requires_grad=True)
    loss = (a * b + c).sum()
    ns = nodes(viz.draw(loss, names={"alpha": a}).source).values()
    labels = " | ".join(ns)
    assert "alpha = [1, 2]" in labels
    assert "x1 = [3, 4]" in labels and "x2 = 0.5" in labels    # unnamed leaves: x1, x2
    loss.name = "L"
    assert "L = 12" in nodes(viz.draw(loss).source).values()


def test_vector_values_and_gradients():
    a = chainrule.tensor([1.0, -2.0, 3.0], requires_grad=True)
    a.name = "a"
    with viz.record():
        s = (a * a).sum()
        s.backward()
    src = viz.draw(s).source
    ns = nodes(src)
    aid, mul = by_label(ns, "a = [1, -2, 3]"), by_label(ns, "Mul")
    assert "u1 (3,) = [1, 4, 9]" in ns[mul]
    # a feeds Mul twice: one drawn edge, the two gradient contributions added (2a)
    assert edges(src, "darkorange").count((aid, mul, "[2, -4, 6]")) == 1
    assert "grad [2, -4, 6]" in ns[aid]


def test_large_values_show_shapes_only():
    w = chainrule.ones(4, 5, requires_grad=True)
    with viz.record():
        y = (w * 2).sum()
    src = viz.draw(y, max_elems=6).source
    ns = nodes(src)
    assert any(v.startswith("x\\n(4, 5)") for v in ns.values())
    assert ("(4, 5)" in [lab for _, _, lab in edges(src, "black")])


def test_custom_function_node_is_named_after_its_class():
    class Cube(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2

    x = chainrule.tensor(2.0, requires_grad=True)
    with viz.record():
        y = Cube.apply(x) + 1
        y.backward()
    src = viz.draw(y).source
    ns = nodes(src)
    cube = by_label(ns, "Cube")
    assert "= 8" in ns[cube]                          # seen where Add consumed it
    assert (by_label(ns, "x = 2"), cube, "12") in edges(src, "darkorange")


def test_output_that_needs_no_grad_is_rejected():
    with pytest.raises(ValueError, match="requires_grad"):
        viz.draw(chainrule.ones(2))
    with pytest.raises(TypeError):
        viz.draw(np.ones(2))


def test_dot_escapes_quotes_in_names():
    x = chainrule.tensor(1.0, requires_grad=True)
    y = x * 3
    src = viz.draw(y, names={'my "x"': x}).source
    assert 'label="my \\"x\\" = 1"' in src


# -- record ------------------------------------------------------------------------------------
def test_record_restores_the_interposer_even_on_error():
    before = F._INTERPOSE[0]
    with pytest.raises(ZeroDivisionError):
        with viz.record():
            assert F._INTERPOSE[0] is not before
            1 / 0
    assert F._INTERPOSE[0] is before


def test_record_chains_to_an_outer_interposer():
    calls = []

    def outer(cls, args, kwargs):
        calls.append(cls.__name__)
        return NotImplemented
    F._INTERPOSE[0] = outer
    try:
        x = chainrule.tensor(2.0, requires_grad=True)
        with viz.record():
            y = x * 3
        assert F._INTERPOSE[0] is outer
    finally:
        F._INTERPOSE[0] = None
    assert calls == ["Mul"] and y.item() == 6.0


def test_record_does_not_change_results_or_gradients():
    x = chainrule.tensor([0.5, 1.5], requires_grad=True)
    with viz.record():
        y = (x.exp() * x.sin()).sum()
    y.backward()
    xv = np.array([0.5, 1.5])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xv) * (np.sin(xv) + np.cos(xv)),
                               rtol=1e-6)


# -- explain -----------------------------------------------------------------------------------
def explained(y, **kw):
    buf = io.StringIO()
    viz.explain(y, file=buf, **kw)
    return buf.getvalue().splitlines()


def test_explain_quadratic():
    x, y = quad(backward=False)
    out = explained(y)
    # y = 5 x^2 + 3 at x = 2: forward 4, 20, 23; backward 1, 1*5, 5*(2*2)
    assert out == [
        "Forward:",
        "  u1 = x ** 2 = 4",
        "  u2 = 5 * u1 = 20",
        "  y = u2 + 3 = 23",
        "Backward (chain rule, from y back to the inputs):",
        "  dy/dy = 1",
        "  dy/du2 = dy/dy * dy/du2 = 1 * 1 = 1",
        "  dy/du1 = dy/du2 * du2/du1 = 1 * 5 = 5",
        "  dy/dx = dy/du1 * du1/dx = 5 * 4 = 20",
    ]


def test_explain_sums_paths_and_leaves_grads_untouched():
    x = chainrule.tensor(3.0, requires_grad=True)
    x.name = "x"
    with viz.record():
        y = x * x + x.sin()
    out = explained(y)
    last = out[-1]
    # dy/dx = 1*cos(3) [through sin] + 1*3 + 1*3 [x*x uses x twice], in engine order
    terms = sorted(re.findall(r"1 \* (\(?-?[\d.]+\)?)", last))
    assert sorted(terms) == ["(-0.99)", "3", "3"]
    assert last.lstrip().startswith("dy/dx = ")
    assert last.endswith(f"= {float(6 + np.cos(3.0)):.4g}")
    assert x.grad is None
    y.backward()                                   # the graph is still usable
    assert abs(x.grad.item() - (6 + np.cos(3.0))) < 1e-5


def test_explain_nonscalar_step_uses_vjp_and_needs_graph():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    a.name = "a"
    with viz.record():
        loss = (a * 3).sum()
    out = explained(loss)
    assert out[-2].strip() == "dy/du1 = dy/dy @ dy/du1  (vector-Jacobian product) = [1, 1]"
    assert out[-1].strip() == "dy/da = dy/du1 * du1/da = [1, 1] * [3, 3] = [3, 3]"
    loss.backward()
    with pytest.raises(RuntimeError, match="explain\\(\\) needs the graph"):
        explained(loss)


def test_explain_nonscalar_output_needs_grad_output():
    a = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    with pytest.raises(RuntimeError, match="grad_output"):
        explained(y)
    out = explained(y, grad_output=chainrule.tensor([1.0, 10.0]))
    assert out[-1].endswith("= [2, 20]")


def test_explain_without_record_marks_unknown_constants():
    x, y = quad(record=False, backward=False)
    out = explained(y)
    assert out[1] == "  u1 = x ** ?   shape ()"
    assert out[-1] == "  dy/dx = dy/du1 * du1/dx = 5 * 4 = 20"


# -- rendering ---------------------------------------------------------------------------------
def test_save_dot_text(tmp_path):
    x, y = quad()
    g = viz.draw(y)
    p = g.save(tmp_path / "g.dot")
    assert open(p).read() == g.source and str(g) == g.source


def test_missing_dot_gives_message_and_dot_text(tmp_path, monkeypatch):
    monkeypatch.setattr(viz._draw.shutil, "which", lambda name: None)
    x, y = quad()
    g = viz.draw(y)
    with pytest.raises(viz.GraphvizNotFound, match="apt-get install graphviz"):
        g.svg()
    assert g._repr_svg_() is None
    bundle = g._repr_mimebundle_()
    assert "apt-get install graphviz" in bundle["text/plain"]
    assert g.source in bundle["text/plain"]
    with pytest.warns(UserWarning, match="Wrote the DOT text"):
        p = g.save(tmp_path / "g.svg")
    assert p.endswith("g.dot") and open(p).read() == g.source


@pytest.mark.skipif(viz.dot_available() is None,
                    reason="Graphviz's `dot` is not installed (apt-get install graphviz)")
def test_rendered_svg_and_png(tmp_path):
    x, y = quad()
    g = viz.draw(y)
    svg = g._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("Pow", "x = 2", "grad 20", "y = 23"):
        assert text in svg
    assert 'stroke="darkorange"' in svg
    p = g.save(tmp_path / "g.png")
    assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_leaf_alone_is_one_node():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    src = viz.draw(x, names={"w": x}).source
    assert list(nodes(src).values()) == ["w = [1, 2]\\n(2,)"]
    assert " -> " not in src


# -- modules -----------------------------------------------------------------------------------
def mlp_step():
    from chainrule import nn
    chainrule.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    xb, yb = chainrule.randn(5, 3), chainrule.tensor([0, 1, 1, 0, 1])
    with viz.record(model):
        loss = nn.CrossEntropyLoss()(model(xb), yb)
        loss.backward()
    return model, loss


def test_parameters_named_by_module_path_and_framed_by_module():
    model, loss = mlp_step()
    src = viz.draw(loss, model=model).source
    labels = list(nodes(src).values())
    for p in ("0.weight\\n(4, 3)", "0.bias", "2.weight\\n(2, 4)", "2.bias"):
        assert any(v.startswith(p) for v in labels), p
    frames = re.findall(r'graph \[label="([^"]+)", style="dashed,rounded"', src)
    assert sorted(frames) == ["0: Linear", "1: ReLU", "2: Linear"]


def test_collapse_turns_modules_into_boxes():
    model, loss = mlp_step()
    src = viz.draw(loss, model=model, collapse=True).source
    ns = nodes(src)
    boxes = {k: v for k, v in ns.items() if 'shape="box3d"' in
             next(line for line in src.splitlines() if line.strip().startswith(k + " "))}
    assert sorted(boxes.values()) == ["0: Linear\\nweight (4, 3), bias (4,)", "1: ReLU",
                                      "2: Linear\\nweight (2, 4), bias (2,)"]
    assert not any(v.startswith(("Transpose", "MatMul", "0.weight")) for v in ns.values())
    lin0, relu, lin2 = (by_label(ns, p) for p in ("0: Linear", "1: ReLU", "2: Linear"))
    assert (lin0, relu, "(5, 4)") in edges(src, "black")
    assert (relu, lin2, "grad (5, 4)") in edges(src, "darkorange")
    # collapsing by name: only module 2 becomes a box
    ns2 = nodes(viz.draw(loss, model=model, collapse=["2"]).source)
    assert any(v.startswith("2: Linear") for v in ns2.values())
    assert any(v.startswith("0.weight") for v in ns2.values())


def test_record_removes_its_module_hooks():
    model, _ = mlp_step()
    y = model(chainrule.randn(2, 3)).sum()          # outside record: nothing is tagged
    src = viz.draw(y, model=model).source
    inside = re.findall(r"subgraph cluster_\d+ \{(.*?)\n  \}", src, re.S)
    ops = ('label="Linear\\n', 'label="Relu\\n')    # op nodes, not the cluster titles
    assert inside and not any(o in block for block in inside for o in ops)
    assert ops[0] in src
