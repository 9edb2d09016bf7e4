"""The op table: every module in this package defines ``OPS``, a list of OpInfo."""
import importlib
import pkgutil


def all_ops():
    ops = []
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if m.name.startswith("table_"):
            ops.extend(importlib.import_module(f"{__name__}.{m.name}").OPS)
    return ops
