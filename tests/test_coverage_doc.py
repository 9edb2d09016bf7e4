"""docs/COVERAGE.md is generated from the code (tools/gen_coverage.py); these tests keep it
honest: the committed file matches a fresh rendering, and the rendering follows the code."""
import importlib.util
import os

import pytest

import chainrule
from conftest import needs_torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location(
        "gen_coverage", os.path.join(ROOT, "tools", "gen_coverage.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_coverage_is_up_to_date(gen):
    with open(gen.OUT) as f:
        committed = f.read()
    assert committed == gen.render(gen.read_names()), \
        "docs/COVERAGE.md is stale: run python tools/gen_coverage.py"


def test_names_file_is_sorted_unique_and_sectioned(gen):
    names = gen.read_names()
    assert names == sorted(set(names)) and len(names) > 1000
    groups = gen._split(names)
    assert sum(len(v) for v in groups.values()) == len(names)
    assert "inv" in groups["torch.linalg"] and "inv" not in groups["torch"]
    assert "gather" in groups["torch.Tensor methods"] and "relu" in groups["torch.nn.functional"]


def test_rendering_follows_the_code(gen, monkeypatch):
    names = ["torch.gather", "torch.linalg.inv", "torch.Tensor.scatter_",
             "torch.nn.functional.relu"]
    text = gen.render(names)
    assert "| `torch.linalg` | 1 | 1 | 100% |" in text and "| all | 4 | 4 | 100% |" in text
    monkeypatch.delattr(chainrule.linalg, "inv")
    monkeypatch.delattr(chainrule, "gather")
    text = gen.render(names)
    assert "| `torch.linalg` | 0 | 1 | 0% |" in text and "| all | 2 | 4 | 50% |" in text
    section = text.split("## torch.linalg")[1]
    assert "Not supported (1): `inv`" in section


def test_check_mode_reports_a_stale_file(gen, tmp_path, monkeypatch):
    stale = tmp_path / "COVERAGE.md"
    stale.write_text("old\n")
    monkeypatch.setattr(gen, "OUT", str(stale))
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


@needs_torch
def test_names_file_matches_installed_torch(gen):
    import torch
    if not torch.__version__.startswith("2.13"):
        pytest.skip("the list was generated from torch 2.13")
    assert sorted(set(gen.torch_names())) == gen.read_names()
