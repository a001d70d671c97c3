# IPython's line syntax in a cell, for code written for Jupyter kernels (E2B's code interpreter
# README runs `!pip install …`): `!cmd` runs a shell command, `%pip …` runs pip, `%cd DIR` and
# `%pwd`. Only tried on a cell that is not valid Python, so valid code never changes meaning;
# one line stays one line, so traceback line numbers are the user's.

import re

# `!=` can start a continuation line of valid code: never a shell escape.
_LINE = re.compile(r"^([ \t]*)(?:!(?!=)(.*)|%(pip|cd|pwd)\b(.*))$")


def shell_escapes(source):
    """The cell with its IPython lines made Python, or None when it has none."""
    lines = source.splitlines(True)
    changed = False
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        m = _LINE.match(body)
        if not m:
            continue
        indent, shell, magic, arg = m.group(1), m.group(2), m.group(3), (m.group(4) or "").strip()
        if shell is not None:
            # `and None`: as a cell's last line it shows nothing, as in IPython.
            run = f"__import__('subprocess').run({shell.strip()!r}, shell=True, executable='/bin/bash')"
            stmt = f"{run} and None"
        elif magic == "pip":
            stmt = f"__import__('subprocess').run('python3 -m pip ' + {arg!r}, shell=True) and None"
        elif magic == "cd":
            # IPython says where it went.
            stmt = (f"print(__import__('os').chdir(__import__('os').path.expanduser({arg or '~'!r}))"
                    " or __import__('os').getcwd())")
        else:
            # A value, as IPython's %pwd returns: shown only as a cell's last line.
            stmt = "__import__('os').getcwd()"
        lines[i] = indent + stmt + line[len(body):]
        changed = True
    return "".join(lines) if changed else None
