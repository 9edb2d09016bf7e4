"""Build docs/tutorial.md from its own code.

The tutorial's ```python blocks run in order, in one namespace, with docs/ as the working
directory (so pictures saved to img/... land in docs/img/). What a block prints is written
into the ```text block right after it (one is added when missing). An output block preceded by
the comment <!-- varies --> holds numbers that may differ slightly between machines (training):
``--check`` does not compare it.

    python docs/build.py            # rerun everything, rewrite tutorial.md and docs/img/
    python docs/build.py --check    # rerun, fail if a printed output differs from the file
"""
import contextlib
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIAL = os.path.join(HERE, "tutorial.md")
VARIES = "<!-- varies -->"

_BLOCK = re.compile(r"```python\n(.*?)```\n(?P<after>(?:[ \t]*\n)*(?:<!-- varies -->\n)?"
                    r"```text\n.*?```\n)?", re.S)


def blocks(text):
    """[(code, start line, match)] for every python block of the markdown ``text``."""
    return [(m.group(1), text.count("\n", 0, m.start()) + 2, m) for m in _BLOCK.finditer(text)]


def run(text, workdir):
    """Run every python block of ``text`` inside ``workdir``; returns their printed outputs."""
    os.makedirs(os.path.join(workdir, "img"), exist_ok=True)
    ns = {"__name__": "__tutorial__"}
    outs = []
    old = os.getcwd()
    os.chdir(workdir)
    try:
        for code, line, _ in blocks(text):
            buf = io.StringIO()
            # a block starting at line N compiles with its own line numbers in tracebacks
            src = "\n" * (line - 1) + code
            with contextlib.redirect_stdout(buf):
                exec(compile(src, "tutorial.md", "exec"), ns)
            outs.append(buf.getvalue())
    finally:
        os.chdir(old)
    return outs


def _output_block(out, varies):
    return ("\n" + (VARIES + "\n" if varies else "") + "```text\n" + out.rstrip("\n") +
            "\n```\n") if out.strip() else ""


def rebuild(text, outs):
    """``text`` with each block's output block replaced by the new output."""
    pieces, pos = [], 0
    for (code, _, m), out in zip(blocks(text), outs):
        after = m.group("after") or ""
        pieces.append(text[pos:m.start()])
        pieces.append(f"```python\n{code}```\n")
        pieces.append(_output_block(out, VARIES in after))
        pos = m.end()
    pieces.append(text[pos:])
    return "".join(pieces)


def check(text, outs):
    """Differences between the printed outputs and the ones written in ``text``."""
    problems = []
    for (code, line, m), out in zip(blocks(text), outs):
        after = m.group("after") or ""
        if VARIES in after:
            continue
        written = re.sub(r"^\s*```text\n|```\n$", "", after.strip() + "\n") if after else ""
        if written.strip() != out.strip():
            problems.append(f"tutorial.md line {line}: the block printed\n{out}\nbut the file "
                            f"shows\n{written}")
    return problems


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    root = os.path.dirname(HERE)
    if root not in sys.path:
        sys.path.insert(0, root)            # this checkout's chainrule, installed or not
    with open(TUTORIAL) as f:
        text = f.read()
    outs = run(text, HERE)
    if "--check" in argv:
        problems = check(text, outs)
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    with open(TUTORIAL, "w") as f:
        f.write(rebuild(text, outs))
    print(f"rebuilt {TUTORIAL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
