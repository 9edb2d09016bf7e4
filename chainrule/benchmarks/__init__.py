"""Benchmark workloads: chainrule side by side with a hand-written NumPy floor (and torch / jax
when installed), in one process. Results are ratios to the NumPy floor.

Each workload module in this package defines ``WORKLOADS``: a list of ``Workload``. Run them
with ``python -m chainrule.benchmarks`` or ``chainrule bench``.
"""
import importlib
import os
import pkgutil
import time

# torch's OpenMP threads spin after each op by default, stealing the core that NumPy (and
# chainrule) run on next in a round-robin measurement; make them sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__ = ["Workload", "all_workloads", "measure", "run", "selected"]


class Workload:
    """One benchmark: ``impls`` maps a label ('numpy', 'chainrule', 'torch', 'jax') to a
    zero-argument setup function returning the callable to time (setup is not timed); a setup
    may raise ImportError when its library is missing."""

    def __init__(self, name, impls, target=None, quick_repeat=5, repeat=30):
        self.name, self.impls, self.target = name, impls, target
        self.quick_repeat, self.repeat = quick_repeat, repeat


def all_workloads():
    import chainrule.benchmarks as pkg
    out = []
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if m.name.startswith("bench_"):
            out.extend(importlib.import_module(f"{pkg.__name__}.{m.name}").WORKLOADS)
    return out


def selected(name, names):
    """True when ``names`` is None or one of them is a case-insensitive part of ``name``."""
    return names is None or any(n.lower() in name.lower() for n in names)


def measure(fn, repeat):
    """Median wall time of fn over ``repeat`` runs (after one warm-up)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def run(quick=False, names=None, progress=None, libs=None):
    """Time every workload; returns rows (name, {label: seconds}, {label: ratio}, target).
    ``libs`` limits the libraries timed (the NumPy floor always runs)."""
    rows = []
    wls = [w for w in all_workloads() if selected(w.name, names)]
    for w in wls:
        times = {}
        labels = list(w.impls)
        # interleave the libraries so machine noise hits them alike
        fns = {}
        for label in labels:
            if libs is not None and label != "numpy" and label not in libs:
                continue
            try:
                fns[label] = w.impls[label]()
            except ImportError:
                continue
        rep = w.quick_repeat if quick else w.repeat
        # round-robin: each round times every library once, so load spikes hit all alike
        samples = {label: [] for label in fns}
        for fn in fns.values():
            fn()
        order = list(fns.items())
        for r in range(rep):
            # the order rotates each round: a library that pollutes caches (or leaves threads
            # running) slows whichever runs after it, so each one follows each other equally
            k = r % len(order)
            for label, fn in order[k:] + order[:k]:
                # one untimed call first: a library is timed warm, never paying to wake the
                # BLAS threads that another library's long call let fall asleep
                fn()
                t0 = time.perf_counter()
                fn()
                samples[label].append(time.perf_counter() - t0)
        for label, ts in samples.items():
            ts.sort()
            times[label] = ts[len(ts) // 2]
        base = times.get("numpy")
        ratios = {k: v / base for k, v in times.items()} if base else {}
        rows.append((w.name, times, ratios, w.target))
        if progress is not None:
            progress(w.name)
    return rows


def memory_rows(names=None):
    """(name, {label: ratio to numpy}, target) for each module's MEMORY entries."""
    import chainrule.benchmarks as pkg
    rows = []
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not m.name.startswith("bench_"):
            continue
        mod = importlib.import_module(f"{pkg.__name__}.{m.name}")
        for name, impls, target in getattr(mod, "MEMORY", []):
            if not selected(name, names):
                continue
            peaks = {k: mod.peak_memory(v) for k, v in impls.items()}
            rows.append((name, {k: v / peaks["numpy"] for k, v in peaks.items()}, target))
    return rows


def format_table(rows):
    labels = ["numpy", "chainrule", "torch", "jax"]
    head = f"{'workload':<34}" + "".join(f"{lab:>11}" for lab in labels) + "   target"
    lines = [head, "-" * len(head)]
    for name, times, ratios, target in rows:
        cells = "".join(f"{ratios[lab]:>10.2f}x" if lab in ratios else f"{'-':>11}"
                        for lab in labels)
        lines.append(f"{name:<34}{cells}   {target or ''}")
    return "\n".join(lines)
