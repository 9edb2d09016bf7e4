"""Full Hessian of f(x) = sum(tanh(A @ x) ** 2), n = 100, float64: chainrule.func.hessian
(forward-over-reverse, vectorised) against the closed form A^T diag((2 - 6t^2)(1 - t^2)) A
(the NumPy floor), torch.autograd.functional.hessian and jax.jit(jax.hessian) when installed.
Every implementation is checked against the closed form before it is timed.

Targets: chainrule within 2x of jax.jit and at least 20x faster than torch's functional
hessian. ``python -m chainrule.benchmarks.bench_hessian`` prints those two ratios; on a shared
machine pin every library to one thread so they compete on equal terms:
``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"``.
"""
import time

import numpy as np

from . import Workload

N = 100


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((N, N)) / np.sqrt(N), rng.standard_normal(N)


def _closed_form(A, x):
    t = np.tanh(A @ x)
    return A.T @ (((2 - 6 * t * t) * (1 - t * t))[:, None] * A)


def _checked(fn, to_np):
    A, x = _data()
    np.testing.assert_allclose(to_np(fn()), _closed_form(A, x), rtol=1e-9, atol=1e-12)
    return fn


def numpy_setup():
    A, x = _data()
    return _checked(lambda: _closed_form(A, x), np.asarray)


def chainrule_setup():
    import chainrule
    from chainrule.func import hessian
    A, x = _data()
    At, xt = chainrule.tensor(A, dtype=chainrule.float64), chainrule.tensor(x,
                                                                           dtype=chainrule.float64)
    h = hessian(lambda v: (chainrule.tanh(At @ v) ** 2).sum())
    return _checked(lambda: h(xt), lambda r: r.numpy())


def chainrule_functional_setup():
    import chainrule
    from chainrule.autograd.functional import hessian
    A, x = _data()
    At, xt = chainrule.tensor(A, dtype=chainrule.float64), chainrule.tensor(x,
                                                                           dtype=chainrule.float64)
    return _checked(lambda: hessian(lambda v: (chainrule.tanh(At @ v) ** 2).sum(), xt),
                    lambda r: r.numpy())


def torch_setup():
    import torch
    from torch.autograd.functional import hessian
    A, x = _data()
    At, xt = torch.tensor(A), torch.tensor(x)
    return _checked(lambda: hessian(lambda v: (torch.tanh(At @ v) ** 2).sum(), xt),
                    lambda r: r.numpy())


def jax_setup():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    A, x = _data()
    Aj, xj = jnp.asarray(A), jnp.asarray(x)
    h = jax.jit(jax.hessian(lambda v: jnp.sum(jnp.tanh(Aj @ v) ** 2)))
    return _checked(lambda: h(xj).block_until_ready(), np.asarray)


WORKLOADS = [
    Workload("hessian_tanh_n100", {"numpy": numpy_setup, "chainrule": chainrule_setup,
                                   "torch": torch_setup, "jax": jax_setup},
             target="chainrule <= 2x jax, torch >= 20x chainrule", quick_repeat=5, repeat=30),
    Workload("hessian_tanh_n100_functional", {"numpy": numpy_setup,
                                              "chainrule": chainrule_functional_setup},
             target="same path through autograd.functional.hessian", quick_repeat=5,
             repeat=30),
]


def main(repeat=30, clock=time.process_time):
    """Time the implementations interleaved, in one process; print the target ratios. The
    default clock is the process's CPU time (all threads) and the statistic the minimum over
    rounds: both hold up on a machine shared with other work."""
    fns = {}
    for label, setup in (("numpy", numpy_setup), ("chainrule", chainrule_setup),
                         ("torch", torch_setup), ("jax", jax_setup)):
        try:
            fns[label] = setup()
        except ImportError:
            print(f"{label}: not installed, skipped")
    times = {k: [] for k in fns}
    inner = {}
    for k, fn in fns.items():
        t0 = time.perf_counter()
        fn()
        inner[k] = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-6)))
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = clock()
            for _ in range(inner[k]):
                fn()
            times[k].append((clock() - t0) / inner[k])
    med = {k: min(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:>10}: {v / med['numpy']:8.2f}x numpy")
    if "jax" in med:
        print(f"chainrule / jax   = {med['chainrule'] / med['jax']:.2f}  (target <= 2)")
    if "torch" in med:
        print(f"torch / chainrule = {med['torch'] / med['chainrule']:.1f}  (target >= 20)")
    return med


if __name__ == "__main__":
    main()
