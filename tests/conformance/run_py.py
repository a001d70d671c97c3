"""Runs tests/conformance/cases.json through the Python SDK against a real hostd.

Usage: PYTHONPATH=packages/sdk-python PODFLARE_HOSTD_URL=http://127.0.0.1:7070 \
       python3 tests/conformance/run_py.py [name-substring ...]

Exit status: 0 all cases passed, 1 some failed, 2 no hostd (unset or unreachable): the
cases exist to be run against a real server, so a missing one is a failure, not a skip.
sdk-py.test.ts runs this and asserts the exit status. sdk-ts.test.ts runs the same cases
through the TypeScript SDK.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import podflare
from podflare import PodflareError, Sandbox

CASES = Path(__file__).resolve().parent / "cases.json"


class Failure(AssertionError):
    pass


def check(cond: bool, message: str) -> None:
    if not cond:
        raise Failure(message)


def run_case(host: str, case: dict[str, Any]) -> None:
    sandboxes: dict[str, Sandbox] = {}
    blobs: dict[str, str] = {}
    try:
        for i, step in enumerate(case["steps"]):
            try:
                run_step(host, step, sandboxes, blobs)
            except Exception as err:
                raise Failure(f"step {i} ({step['op']}): {type(err).__name__}: {err}") from err
    finally:
        for sb in sandboxes.values():
            try:
                sb.close()
            except Exception:
                pass


def run_step(host: str, step: dict[str, Any], sandboxes: dict[str, Sandbox], blobs: dict[str, str]) -> None:
    expect = step.get("expect", {})
    t0 = time.monotonic()
    try:
        value = perform(host, step, sandboxes, blobs)
    except PodflareError as err:
        if "error" not in expect:
            raise
        check_error(err, expect["error"])
        return
    check("error" not in expect, f"expected {expect.get('error')}, but {step['op']} succeeded")
    elapsed_ms = (time.monotonic() - t0) * 1000
    if "min_elapsed_ms" in expect:
        check(elapsed_ms >= expect["min_elapsed_ms"],
              f"took {elapsed_ms:.0f} ms, expected >= {expect['min_elapsed_ms']}")
    if "max_elapsed_ms" in expect:
        check(elapsed_ms <= expect["max_elapsed_ms"],
              f"took {elapsed_ms:.0f} ms, expected <= {expect['max_elapsed_ms']}")

    op = step["op"]
    if op in ("run", "stream"):
        r = value
        if "exit_code" in expect:
            check(r["exit_code"] == expect["exit_code"],
                  f"exit code {r['exit_code']} != {expect['exit_code']}; stderr: {r['stderr']}")
        if "stdout" in expect:
            check(r["stdout"] == expect["stdout"], f"stdout {r['stdout']!r} != {expect['stdout']!r}")
        if "stderr" in expect:
            check(r["stderr"] == expect["stderr"], f"stderr {r['stderr']!r} != {expect['stderr']!r}")
        if "stdout_contains" in expect:
            check(expect["stdout_contains"] in r["stdout"],
                  f"stdout {r['stdout']!r} lacks {expect['stdout_contains']!r}")
        if "stderr_contains" in expect:
            check(expect["stderr_contains"] in r["stderr"],
                  f"stderr {r['stderr']!r} lacks {expect['stderr_contains']!r}")
        if "first_event_within_ms" in expect:
            first = r.get("first_event_ms")
            check(first is not None and first < expect["first_event_within_ms"],
                  f"first event after {first} ms")
    elif op == "create":
        sb = value
        if "id_pattern" in expect:
            import re

            check(re.search(expect["id_pattern"], sb.id) is not None,
                  f"id {sb.id!r} does not match {expect['id_pattern']}")
        for key in expect.get("applied_keys", []):
            check(sb.applied is not None and key in sb.applied, f"applied lacks {key}: {sb.applied}")
    elif op == "download":
        if "same_as" in expect:
            check(hashlib.sha256(value).hexdigest() == blobs[expect["same_as"]],
                  "downloaded bytes differ from the upload")
        if "text" in expect:
            check(value.decode("utf-8") == expect["text"], f"downloaded {value[:100]!r}")
    elif op == "list":
        names = [e.name for e in value]
        for n in expect.get("names_include", []):
            check(n in names, f"listing {names} lacks {n}")


def perform(host: str, step: dict[str, Any], sandboxes: dict[str, Sandbox], blobs: dict[str, str]) -> Any:
    op = step["op"]
    sb = lambda: sandboxes[step.get("sandbox", "sb")]  # noqa: E731
    run_kwargs = {"timeout_ms": step["timeout_ms"]} if "timeout_ms" in step else {}
    if op == "create":
        options = dict(step.get("options", {}))
        s = Sandbox(host, **options)
        sandboxes[step.get("as", "sb")] = s
        return s
    if op == "connect":
        sid = step.get("id") or sandboxes[step["id_of"]].id
        s = Sandbox.connect(sid, host)
        sandboxes[step.get("as", "sb")] = s
        return s
    if op == "close":
        return sb().close()
    if op == "run":
        r = sb().run_code(step.get("code", ""), step.get("language", "python"), **run_kwargs)
        return {"stdout": r.stdout, "stderr": r.stderr, "exit_code": r.exit_code}
    if op == "stream":
        t0 = time.monotonic()
        first = None
        out, err, code = [], [], -1
        for ev in sb().run_code_stream(step.get("code", ""), step.get("language", "python"), **run_kwargs):
            if first is None:
                first = (time.monotonic() - t0) * 1000
            if ev.type == "exit":
                code = ev.data
            elif ev.type in ("stdout", "stderr"):  # rich results are not output
                (out if ev.type == "stdout" else err).append(ev.data)
        return {"stdout": "".join(out), "stderr": "".join(err), "exit_code": code, "first_event_ms": first}
    if op == "upload_random":
        data = os.urandom(step["bytes"])
        blobs[step.get("as", "blob")] = hashlib.sha256(data).hexdigest()
        return sb().upload(data, step["path"])
    if op == "upload":
        return sb().upload(step.get("text", ""), step["path"])
    if op == "download":
        return sb().download(step["path"])
    if op == "list":
        return sb().list(step["path"])
    if op == "remove":
        return sb().remove(step["path"])
    raise Failure(f"unknown op {op}")


def check_error(err: PodflareError, want: dict[str, Any]) -> None:
    if "class" in want:
        cls = getattr(podflare, want["class"], None)
        check(isinstance(cls, type), f"the SDK exports no class {want['class']}")
        check(isinstance(err, cls), f"expected {want['class']}, got {type(err).__name__}: {err}")
    if "code" in want:
        check(err.code == want["code"], f"code {err.code!r} != {want['code']!r}: {err}")
    if "status" in want:
        check(err.status == want["status"], f"status {err.status} != {want['status']}: {err}")


def main(argv: list[str]) -> int:
    host = os.environ.get("PODFLARE_HOSTD_URL", "").rstrip("/")
    if not host:
        print("FAIL: PODFLARE_HOSTD_URL is not set: the conformance cases need a running hostd", flush=True)
        return 2
    try:
        with urllib.request.urlopen(f"{host}/v1/healthz", timeout=5) as res:
            if res.status != 200:
                raise OSError(f"healthz answered {res.status}")
    except (OSError, urllib.error.URLError) as err:
        print(f"FAIL: hostd at {host} is unreachable: {err}", flush=True)
        return 2
    cases = json.loads(CASES.read_text("utf-8"))
    if argv:
        cases = [c for c in cases if any(a in c["name"] for a in argv)]
    failed = 0
    for case in cases:
        t0 = time.monotonic()
        try:
            run_case(host, case)
            print(f"ok   py: {case['name']} ({(time.monotonic() - t0) * 1000:.0f} ms)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL py: {case['name']}\n{traceback.format_exc()}", flush=True)
    print(f"{len(cases) - failed}/{len(cases)} cases passed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
