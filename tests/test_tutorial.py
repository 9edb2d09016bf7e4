"""docs/tutorial.md: its code runs, and what it prints is what the file shows."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "docs"))
import build  # noqa: E402  (docs/build.py)


@pytest.fixture(scope="module")
def tutorial():
    pytest.importorskip("sklearn")
    with open(build.TUTORIAL) as f:
        return f.read()


def test_tutorial_code_runs_and_outputs_match(tutorial, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    outs = build.run(tutorial, str(tmp_path))
    assert len(outs) == len(build.blocks(tutorial)) >= 8
    assert build.check(tutorial, outs) == []
    for name in ("quadratic-forward", "quadratic", "softplus", "mlp-collapsed", "mlp"):
        assert any((tmp_path / "img" / f"{name}.{ext}").exists() for ext in ("svg", "dot"))


def test_every_picture_in_the_tutorial_is_made_by_its_code(tutorial):
    import re
    code = "\n".join(c for c, _, _ in build.blocks(tutorial))
    pictures = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", tutorial)
    assert pictures
    for p in pictures:
        assert f'"{p}"' in code, p
        assert os.path.exists(os.path.join(ROOT, "docs", p)), p


def test_check_notices_a_stale_output(tmp_path):
    text = "```python\nprint(1 + 1)\n```\n\n```text\n3\n```\n"
    outs = build.run(text, str(tmp_path))
    assert outs == ["2\n"]
    assert build.check(text, outs) and not build.check(build.rebuild(text, outs), outs)
    varies = "```python\nprint(1 + 1)\n```\n\n<!-- varies -->\n```text\n3\n```\n"
    assert build.check(varies, outs) == []
