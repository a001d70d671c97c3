# Files in and out. PODFLARE_TEST_CSV names a local CSV made by the test.
import os

from podflare import Sandbox

with Sandbox() as sb:
    sb.upload(open(os.environ["PODFLARE_TEST_CSV"], "rb").read(), "/root/data.csv")
    summary = sb.run_code("""
        import csv
        rows = list(csv.DictReader(open('/root/data.csv')))
        total = sum(int(r['amount']) for r in rows)
        print(len(rows), total)
        with open('/root/report.txt', 'w') as f:
            f.write(f'{len(rows)} rows, total {total}\\n')
    """).stdout
    report = sb.download("/root/report.txt")
    sb.upload(b"\x00\x01\xff", "/root/blob.bin")
    blob = sb.download("/root/blob.bin")

print(summary, end="")
assert summary == "3 60\n", repr(summary)
assert report == b"3 rows, total 60\n", report
assert blob == b"\x00\x01\xff", blob
