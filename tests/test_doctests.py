"""Every public docstring example runs (doctest over the package's modules)."""
import doctest
import importlib
import pkgutil

import pytest

import chainrule

SKIP = {"chainrule.cli", "chainrule.benchmarks.__main__"}
MODULES = sorted(m.name for m in pkgutil.walk_packages(chainrule.__path__, "chainrule.")
                 if m.name not in SKIP)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    mod = importlib.import_module(name)
    chainrule.manual_seed(0)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    res = doctest.testmod(mod, optionflags=flags, verbose=False, report=False)
    assert res.failed == 0, f"{res.failed} failing doctest example(s) in {name}"
