# fork(5) + merge_into: set up state once, explore five plans in parallel, keep the best.
from podflare import Sandbox

with Sandbox() as parent:
    parent.run_code("""
        import json
        data = [3, 1, 4, 1, 5, 9, 2, 6]
    """)

    # 5 different hypotheses
    plans = [
        "result = sum(data)",
        "result = max(data)",
        "result = len(data)",
        "result = sorted(data)[-2]",
        "result = data[0] * data[-1]",
    ]

    children = parent.fork(n=len(plans))
    try:
        results = []
        for c, plan in zip(children, plans):
            c.run_code(plan)
            results.append(int(c.run_code("print(result)").stdout))
        best = results.index(max(results))
        children[best].run_code("open('/root/winner.txt', 'w').write(str(result))")
        parent.merge_into(children[best])
    finally:
        for c in children:
            c.close()

    merged = parent.run_code("print(result, open('/root/winner.txt').read(), json.dumps(data[:2]))").stdout

print(results, merged, end="")
assert results == [31, 9, 8, 6, 18], results
assert merged == "31 31 [3, 1]\n", repr(merged)
