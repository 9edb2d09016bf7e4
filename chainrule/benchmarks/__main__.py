import argparse

from . import format_table, run

p = argparse.ArgumentParser(prog="python -m chainrule.benchmarks")
p.add_argument("--quick", action="store_true")
p.add_argument("--libs", help="comma-separated libraries to time besides numpy "
               "(e.g. chainrule): others in the process disturb the timings a little")
p.add_argument("names", nargs="*")
a = p.parse_args()
from . import memory_rows

libs = a.libs.split(",") if a.libs else None
print(format_table(run(quick=a.quick, names=a.names or None, libs=libs)))
for name, ratios, target in memory_rows(a.names or None):
    print(f"{name:<40}" + "".join(f"{k}: {v:.2f}x  " for k, v in ratios.items()) + f"{target}")
