# bash in the same box: each call is a fresh process, shell variables do not carry over.
from podflare import Sandbox

with Sandbox() as sb:
    uname = sb.run_code("uname -a", language="bash").stdout
    print(uname, end="")
    sb.run_code("export X=foo", language="bash")
    carried = sb.run_code("echo ${X:-unset}", language="bash").stdout
    files = sb.run_code("""
        mkdir -p /root/work && cd /root/work
        echo hello > a.txt
        cat a.txt | tr a-z A-Z
    """, language="bash").stdout

assert uname.startswith("Linux "), repr(uname)
assert carried == "unset\n", repr(carried)
assert files == "HELLO\n", repr(files)
