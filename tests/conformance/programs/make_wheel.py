"""Builds a tiny pure-Python wheel with the stdlib (no network, no build tools).

Usage: python3 make_wheel.py OUT_DIR  -> prints the wheel's path. The package is
podflare_hello with greet(name) -> "hello, <name>", for the pip-shaped conformance programs.
"""

import base64
import hashlib
import os
import sys
import zipfile

NAME, VERSION = "podflare_hello", "1.0"
FILES = {
    f"{NAME}/__init__.py": 'def greet(name):\n    return f"hello, {name}"\n',
    f"{NAME}-{VERSION}.dist-info/METADATA":
        f"Metadata-Version: 2.1\nName: podflare-hello\nVersion: {VERSION}\n",
    f"{NAME}-{VERSION}.dist-info/WHEEL":
        "Wheel-Version: 1.0\nGenerator: podflare-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main(out_dir):
    path = os.path.join(out_dir, f"{NAME}-{VERSION}-py3-none-any.whl")
    record = f"{NAME}-{VERSION}.dist-info/RECORD"
    lines = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in FILES.items():
            data = text.encode()
            z.writestr(name, data)
            lines.append(record_line(name, data))
        lines.append(f"{record},,")
        z.writestr(record, "\n".join(lines) + "\n")
    print(path)


if __name__ == "__main__":
    main(sys.argv[1])
