"""The README's Python blocks run, in order, as one script (so the front page cannot rot)."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_python_blocks_run(tmp_path):
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) >= 3
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "tensor(23., grad_fn=<AddBackward0>) tensor(20.)" in r.stdout
    assert "dy/dx = dy/du1 * du1/dx = 5 * 4 = 20" in r.stdout


def test_torch_style_attribute_paths_after_plain_import():
    # scripts reach submodules through attributes after `import torch` alone
    code = ("import chainrule as torch\n"
            "paths = ['utils.checkpoint.checkpoint', 'utils.data.DataLoader', 'func.vmap',\n"
            "         'autograd.functional.hessian', 'autograd.forward_ad.dual_level',\n"
            "         'nn.functional.relu', 'nn.init.kaiming_normal_', 'optim.lr_scheduler.StepLR',\n"
            "         'linalg.solve', 'special.erfcx', 'cuda.is_available', 'backends.cudnn',\n"
            "         'testing.assert_close', 'nn.utils.rnn.pad_sequence']\n"
            "for p in paths:\n"
            "    obj = torch\n"
            "    for part in p.split('.'):\n"
            "        obj = getattr(obj, part)\n"
            "print('ok')\n")
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
