import argparse

from . import format_table, run

p = argparse.ArgumentParser(prog="python -m chainrule.benchmarks")
p.add_argument("--quick", action="store_true")
p.add_argument("names", nargs="*")
a = p.parse_args()
print(format_table(run(quick=a.quick, names=a.names or None)))
