# persistent + freeze + resume: a Space keeps the REPL state and the files.
from podflare import Sandbox

sb = Sandbox(persistent=True)
sb.run_code("""
    x = 42
    open('/root/notes.txt', 'w').write('kept')
""")
space_id = sb.freeze()

later = Sandbox.resume(space_id)
try:
    out = later.run_code("print(x, open('/root/notes.txt').read())").stdout
finally:
    later.close()

print(out, end="")
assert out == "42 kept\n", repr(out)
