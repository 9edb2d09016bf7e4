"""nn.utils.parametrize / parametrizations / legacy weight_norm & spectral_norm vs torch."""
import numpy as np
import pytest
from conftest import needs_torch

import chainrule

pytestmark = needs_torch

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-12)


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _close(a, b, **kw):
    np.testing.assert_allclose(_np(a), _np(b), **(kw or TOL))


def _pair(make, dtype="float64"):
    """The same module in both libraries with identical parameters (float64)."""
    tm = make(torch).to(getattr(torch, dtype))
    cm = make(chainrule).to(getattr(chainrule, dtype))
    with torch.no_grad():
        cm.load_state_dict({k: chainrule.tensor(v.numpy().copy())
                            for k, v in tm.state_dict().items()})
    return cm, tm


def _sync_state(cm, tm):
    cm.load_state_dict({k: chainrule.tensor(v.numpy().copy())
                        for k, v in tm.state_dict().items()})


def _symmetric(m):
    class Symmetric(m.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _split(m):
    class Split(m.nn.Module):
        def forward(self, a, b):
            return a + b

        def right_inverse(self, W):
            return W * 0.25, W * 0.75
    return Split()


def _train(cm, tm, x, steps=4, lr=0.1, opt="SGD"):
    copt = getattr(chainrule.optim, opt)(cm.parameters(), lr=lr)
    topt = getattr(torch.optim, opt)(tm.parameters(), lr=lr)
    for _ in range(steps):
        for m, o, lib in ((cm, copt, chainrule), (tm, topt, torch)):
            o.zero_grad()
            out = m(lib.tensor(x))
            (out * out).sum().backward()
            o.step()
    for (kc, vc), (kt, vt) in zip(sorted(cm.state_dict().items()),
                                  sorted(tm.state_dict().items())):
        assert kc == kt
        _close(vc, vt, rtol=1e-9, atol=1e-11)


# -- parametrize -----------------------------------------------------------------------------
def test_register_forward_grad_state_dict_and_class():
    cm, tm = _pair(lambda m: m.nn.Linear(3, 3))
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _symmetric(lib))
    assert type(cm).__name__ == type(tm).__name__ == "ParametrizedLinear"
    assert isinstance(cm, chainrule.nn.Linear)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _close(cm.weight, tm.weight)
    _close(cm.parametrizations.weight.original, tm.parametrizations.weight.original)
    x = np.random.default_rng(0).standard_normal((2, 3))
    _train(cm, tm, x)
    _close(cm.weight, cm.weight.T)
    assert repr(cm) == repr(tm)


def test_is_parametrized_and_type_before():
    p = chainrule.nn.utils.parametrize
    m = chainrule.nn.Linear(2, 2)
    assert not p.is_parametrized(m) and p.type_before_parametrizations(m) is chainrule.nn.Linear
    p.register_parametrization(m, "weight", chainrule.nn.Identity())
    assert p.is_parametrized(m) and p.is_parametrized(m, "weight")
    assert not p.is_parametrized(m, "bias")
    assert p.type_before_parametrizations(m) is chainrule.nn.Linear
    p.register_parametrization(m, "bias", chainrule.nn.Identity())
    assert type(m).__bases__[0] is chainrule.nn.Linear  # one swap for several tensors
    p.remove_parametrizations(m, "weight")
    assert p.is_parametrized(m) and type(m) is not chainrule.nn.Linear
    p.remove_parametrizations(m, "bias")
    assert type(m) is chainrule.nn.Linear and "parametrizations" not in m._modules


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    cm, tm = _pair(lambda m: m.nn.Linear(3, 3))
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _symmetric(lib))
    cw = cm.parametrizations.weight.original
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight", leave_parametrized=leave)
    assert type(cm) is chainrule.nn.Linear
    assert cm.weight is cw and isinstance(cm.weight, chainrule.nn.Parameter)
    _close(cm.weight, tm.weight)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())


def test_chained_and_set_through_right_inverse():
    cm, tm = _pair(lambda m: m.nn.Linear(3, 3))
    for m, lib in ((cm, chainrule), (tm, torch)):
        pz = lib.nn.utils.parametrize
        pz.register_parametrization(m, "weight", _symmetric(lib))
        pz.register_parametrization(m, "weight", _symmetric(lib))
        assert len(m.parametrizations.weight) == 2
    _close(cm.weight, tm.weight)
    a = np.arange(9.0).reshape(3, 3)
    cm.weight = chainrule.tensor(a)
    tm.weight = torch.tensor(a)
    _close(cm.parametrizations.weight.original, tm.parametrizations.weight.original)
    _close(cm.weight, tm.weight)


def test_multiple_originals_and_load_state_dict():
    cm, tm = _pair(lambda m: m.nn.Linear(3, 2))
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _split(lib))
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    assert "parametrizations.weight.original1" in cm.state_dict()
    _close(cm.parametrizations.weight.original0, tm.parametrizations.weight.original0)
    _close(cm.weight, tm.weight)
    x = np.random.default_rng(1).standard_normal((4, 3))
    _train(cm, tm, x, opt="Adam", lr=0.05)
    fresh = chainrule.nn.Linear(3, 2).double()
    chainrule.nn.utils.parametrize.register_parametrization(fresh, "weight", _split(chainrule))
    fresh.load_state_dict(cm.state_dict())
    _close(fresh.weight, cm.weight)
    with pytest.raises(ValueError):
        chainrule.nn.utils.parametrize.remove_parametrizations(cm, "weight", False)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
    _close(cm.weight, tm.weight)
    assert isinstance(cm.weight, chainrule.nn.Parameter)


def test_buffer_parametrization_stays_buffer():
    m = chainrule.nn.BatchNorm1d(3)
    chainrule.nn.utils.parametrize.register_parametrization(
        m, "running_var", chainrule.nn.Identity())
    t = torch.nn.BatchNorm1d(3)
    torch.nn.utils.parametrize.register_parametrization(t, "running_var", torch.nn.Identity())
    assert sorted(m.state_dict()) == sorted(t.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]


def test_cached():
    p = chainrule.nn.utils.parametrize
    m = p.register_parametrization(chainrule.nn.Linear(2, 2), "weight", _symmetric(chainrule))
    assert m.weight is not m.weight
    with p.cached():
        w = m.weight
        assert m.weight is w
        with p.cached():
            assert m.weight is w
        assert m.weight is w
    assert m.weight is not w


def test_errors_match_torch():
    for lib in (chainrule, torch):
        pz = lib.nn.utils.parametrize
        with pytest.raises(ValueError):
            pz.register_parametrization(lib.nn.Linear(2, 2), "nope", lib.nn.Identity())
        with pytest.raises(ValueError):
            pz.remove_parametrizations(lib.nn.Linear(2, 2), "weight")

        class Shrink(lib.nn.Module):
            def forward(self, X):
                return X[:1]

        class ToDouble(lib.nn.Module):
            def forward(self, X):
                return X.double()

        for bad in (Shrink, ToDouble):
            with pytest.raises(ValueError):
                pz.register_parametrization(lib.nn.Linear(2, 2), "weight", bad())
            # unsafe skips the checks
            m = pz.register_parametrization(lib.nn.Linear(2, 2), "weight", bad(), unsafe=True)
            assert pz.is_parametrized(m, "weight")
        m = pz.register_parametrization(lib.nn.Linear(2, 2), "weight", lib.nn.Identity())
        with pytest.raises(RuntimeError):
            m.weight = lib.ones(2, 2)   # Identity has no right_inverse
        with pytest.raises(RuntimeError):
            import pickle
            pickle.dumps(m)


def test_deepcopy_parametrized():
    import copy
    m = chainrule.nn.utils.parametrize.register_parametrization(
        chainrule.nn.Linear(3, 3), "weight", _symmetric(chainrule))
    m2 = copy.deepcopy(m)
    _close(m2.weight, m.weight)
    assert m2.parametrizations.weight.original is not m.parametrizations.weight.original


# -- parametrizations.weight_norm --------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1, -2, None])
def test_weight_norm_values_and_training(dim):
    cm, tm = _pair(lambda m: m.nn.Conv1d(2, 3, 3))
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrizations.weight_norm(m, dim=dim)
    g, tg = cm.parametrizations.weight.original0, tm.parametrizations.weight.original0
    assert tuple(g.shape) == tuple(tg.shape)
    _close(g, tg)
    _close(cm.parametrizations.weight.original1, tm.parametrizations.weight.original1)
    _close(cm.weight, tm.weight)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    x = np.random.default_rng(2).standard_normal((2, 2, 5))
    _train(cm, tm, x)


def test_weight_norm_loads_legacy_state_dict():
    t = torch.nn.Linear(3, 2).double()
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t)
    sd = {k: chainrule.tensor(v.detach().numpy().copy()) for k, v in t.state_dict().items()}
    c = chainrule.nn.utils.parametrizations.weight_norm(chainrule.nn.Linear(3, 2).double())
    c.load_state_dict(sd)
    _close(c.weight, t.weight)


# -- parametrizations.spectral_norm ------------------------------------------------------------
@pytest.mark.parametrize("make,dim", [
    (lambda m: m.nn.Linear(4, 3), None),
    (lambda m: m.nn.Conv2d(2, 3, 2), None),
    (lambda m: m.nn.ConvTranspose2d(2, 3, 2), None),
    (lambda m: m.nn.Linear(4, 3), -1),
])
def test_spectral_norm_values_and_training(make, dim):
    cm, tm = _pair(make)
    torch.manual_seed(0)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=2, dim=dim)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    _sync_state(cm, tm)  # same u, v as torch
    _close(cm.weight, tm.weight)      # training mode: one more power step each access
    _close(cm.parametrizations.weight[0]._u, tm.parametrizations.weight[0]._u)
    cm.eval(), tm.eval()
    u0 = cm.parametrizations.weight[0]._u.clone()
    _close(cm.weight, tm.weight)
    _close(cm.parametrizations.weight[0]._u, u0, rtol=0, atol=0)  # eval: no update
    cm.train(), tm.train()
    shape = (2, 4) if isinstance(cm, chainrule.nn.Linear) else (1, 2, 4, 4)
    x = np.random.default_rng(3).standard_normal(shape)
    _train(cm, tm, x)


def test_spectral_norm_sigma_and_1d():
    m = chainrule.nn.utils.parametrizations.spectral_norm(chainrule.nn.Linear(5, 4).double())
    for _ in range(30):
        w = m.weight
    s = np.linalg.svd(_np(w), compute_uv=False)
    assert abs(s[0] - 1) < 1e-6
    cm, tm = _pair(lambda mm: mm.nn.Linear(3, 2))
    for mm, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrizations.spectral_norm(mm, "bias")
    _close(cm.bias, tm.bias)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())


def test_spectral_norm_errors():
    for lib in (chainrule, torch):
        sn = lib.nn.utils.parametrizations.spectral_norm
        with pytest.raises(ValueError):
            sn(lib.nn.Linear(2, 2), "nope")
        with pytest.raises(IndexError):
            sn(lib.nn.Linear(2, 2), dim=2)
        with pytest.raises(ValueError):
            sn(lib.nn.Linear(2, 2), n_power_iterations=0)


# -- legacy hooks ------------------------------------------------------------------------------
def _legacy_train(cm, tm, x, steps=3):
    copt = chainrule.optim.SGD(cm.parameters(), lr=0.1)
    topt = torch.optim.SGD(tm.parameters(), lr=0.1)
    for _ in range(steps):
        for m, o, lib in ((cm, copt, chainrule), (tm, topt, torch)):
            o.zero_grad()
            out = m(lib.tensor(x))
            (out * out).sum().backward()
            o.step()
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    for k, v in tm.state_dict().items():
        _close(cm.state_dict()[k], v, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm(dim):
    cm, tm = _pair(lambda m: m.nn.Linear(3, 2))
    for m, lib in ((cm, chainrule), (tm, torch)):
        with pytest.warns(FutureWarning, match="deprecated"):
            lib.nn.utils.weight_norm(m, dim=dim)
    assert [n for n, _ in cm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    _close(cm.weight_g, tm.weight_g)
    assert tuple(cm.weight_g.shape) == tuple(tm.weight_g.shape)
    _close(cm.weight, tm.weight)
    x = np.random.default_rng(4).standard_normal((2, 3))
    _legacy_train(cm, tm, x)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.remove_weight_norm(m)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    _close(cm.weight, tm.weight)
    assert isinstance(cm.weight, chainrule.nn.Parameter)


def test_legacy_weight_norm_errors():
    for lib in (chainrule, torch):
        m = lib.nn.Linear(2, 2)
        with pytest.raises(ValueError):
            lib.nn.utils.remove_weight_norm(m)
        with pytest.warns(FutureWarning):
            lib.nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError), pytest.warns(FutureWarning):
            lib.nn.utils.weight_norm(m)


@pytest.mark.parametrize("make", [lambda m: m.nn.Linear(4, 3),
                                  lambda m: m.nn.ConvTranspose1d(2, 3, 2)])
def test_legacy_spectral_norm(make):
    cm, tm = _pair(make)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.spectral_norm(m, n_power_iterations=2)
    sd = tm.state_dict()
    assert sorted(cm.state_dict()) == sorted(sd)
    assert cm.state_dict()._metadata[""]["spectral_norm"] == sd._metadata[""]["spectral_norm"]
    _sync_state(cm, tm)
    shape = (2, 4) if isinstance(cm, chainrule.nn.Linear) else (1, 2, 5)
    x = np.random.default_rng(5).standard_normal(shape)
    _legacy_train(cm, tm, x)
    cm.eval(), tm.eval()
    u0 = cm.weight_u.clone()
    _close(cm(chainrule.tensor(x)), tm(torch.tensor(x)))
    _close(cm.weight_u, u0, rtol=0, atol=0)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.remove_spectral_norm(m)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    _close(cm.weight, tm.weight)
    assert not cm._state_dict_hooks and not cm._load_state_dict_pre_hooks


def test_legacy_spectral_norm_old_checkpoint_and_errors():
    cm, tm = _pair(lambda m: m.nn.Linear(4, 3))
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.spectral_norm(m)
    _sync_state(cm, tm)
    tm(torch.zeros(1, 4, dtype=torch.float64))
    old = {k: chainrule.tensor(v.numpy().copy()) for k, v in tm.state_dict().items()
           if k != "weight_v"}
    old["weight"] = chainrule.tensor(tm.weight.detach().numpy().copy())
    cm.load_state_dict(old)   # no metadata: v is solved from weight_orig / weight
    cm.eval(), tm.eval()
    _close(cm(chainrule.ones(1, 4).double()), tm(torch.ones(1, 4).double()),
           rtol=1e-8, atol=1e-10)
    for lib in (chainrule, torch):
        m = lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2))
        with pytest.raises(RuntimeError):
            lib.nn.utils.spectral_norm(m)
        with pytest.raises(ValueError):
            lib.nn.utils.remove_spectral_norm(lib.nn.Linear(2, 2))
        with pytest.raises(ValueError):
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)


# -- parametrizations.orthogonal ---------------------------------------------------------------
@pytest.mark.parametrize("shape,omap,triv", [
    ((3, 3), None, True), ((3, 3), "cayley", True), ((3, 5), None, True),
    ((5, 3), "householder", True), ((4, 2), "matrix_exp", True),
    ((5, 3), "householder", False), ((3, 5), "householder", False),
])
def test_orthogonal_values_and_training(shape, omap, triv):
    cm, tm = _pair(lambda m: m.nn.Linear(shape[1], shape[0]))
    torch.manual_seed(0)
    for m, lib in ((cm, chainrule), (tm, torch)):
        lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=omap,
                                                 use_trivialization=triv)
    assert sorted(cm.state_dict()) == sorted(tm.state_dict())
    if not triv or shape[0] == shape[1]:   # deterministic right_inverse
        for k, v in tm.state_dict().items():
            _close(cm.state_dict()[k], v, rtol=1e-9, atol=1e-11)
    _sync_state(cm, tm)   # the random completion of a non-square base
    _close(cm.weight, tm.weight, rtol=1e-9, atol=1e-11)
    w = _np(cm.weight)
    gram = w @ w.T if shape[0] < shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-10)
    x = np.random.default_rng(6).standard_normal((2, shape[1]))
    _train(cm, tm, x, steps=3)


def test_orthogonal_errors():
    for lib in (chainrule, torch):
        orth = lib.nn.utils.parametrizations.orthogonal
        with pytest.raises(ValueError):
            orth(lib.nn.Linear(2, 2), "bias")
        with pytest.raises(ValueError):
            orth(lib.nn.Linear(2, 2), orthogonal_map="qr")
        m = orth(lib.nn.Linear(2, 2), use_trivialization=False)
        with pytest.raises(NotImplementedError):
            m.weight = lib.eye(2)
