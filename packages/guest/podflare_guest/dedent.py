# Podflare's documentation passes Python as indented triple-quoted strings; the REPL runs
# them as the user meant by removing the common indentation first (as textwrap.dedent).


def dedent(source):
    """Remove the leading spaces and tabs every non-blank line shares; keep the line count.

    As textwrap.dedent, blank lines (only spaces and tabs) become empty. Unlike it, code
    with no common indentation comes back untouched (a whitespace-only line inside a
    string literal of ordinary code keeps its spaces), and lines are split on "\\n" only,
    as the compiler counts them. A first line more indented than the rest keeps its extra
    indent: still an IndentationError, as the user wrote it.
    """
    lines = source.split("\n")
    margin = None
    for line in lines:
        stripped = line.lstrip(" \t")
        if not stripped.rstrip("\r"):
            continue
        indent = line[: len(line) - len(stripped)]
        margin = indent if margin is None else _common_prefix(margin, indent)
        if not margin:
            return source
    if not margin:
        return source
    cut = len(margin)
    return "\n".join(line[cut:] if line.strip(" \t\r") else line.lstrip(" \t") for line in lines)


def _common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]
