import argparse

from . import format_table, run

p = argparse.ArgumentParser(prog="python -m chainrule.benchmarks")
p.add_argument("--quick", action="store_true")
p.add_argument("names", nargs="*")
a = p.parse_args()
from . import memory_rows

print(format_table(run(quick=a.quick, names=a.names or None)))
for name, ratios, target in memory_rows(a.names or None):
    print(f"{name:<40}" + "".join(f"{k}: {v:.2f}x  " for k, v in ratios.items()) + f"{target}")
