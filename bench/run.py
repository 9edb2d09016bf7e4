"""Run chainrule's benchmark table from a source checkout: ``python bench/run.py [NAME ...]``.

The workloads live in ``chainrule/benchmarks/`` (so an installed package can run them too, as
``python -m chainrule.benchmarks`` or ``chainrule bench``); this script is the same entry point
for people who look for ``bench/`` first. NAME selects workloads whose name contains it, e.g.
``python bench/run.py tiny train hessian``. Add ``--quick`` for fewer repeats.
"""
import os
import runpy
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
runpy.run_module("chainrule.benchmarks", run_name="__main__", alter_sys=True)
