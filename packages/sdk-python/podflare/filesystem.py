"""The sandbox's filesystem (``sandbox.fs``): list, stat, mkdir, move, remove, watch. Paths
are inside the sandbox, checked as the files API checks them. REST: docs/api.md, "Filesystem".

Example::

    for e in sb.fs.list("/root"):
        print(e.type, e.name, e.size)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator, Optional
from urllib.parse import quote

from .connection import Transport
from .errors import ProtocolError
from .events import NdjsonDecoder


@dataclass(frozen=True)
class FsEntry:
    """One file, directory or symlink (a symlink is described itself, with its target)."""

    name: str
    path: str
    type: str
    size: int
    mode: int
    permissions: str
    owner: str
    group: str
    mtime_ms: int
    symlink_target: Optional[str]


@dataclass(frozen=True)
class WatchEvent:
    """``type``: create, write, remove, rename, chmod (or overflow: events were lost);
    ``name`` is ``path`` relative to the watched directory."""

    type: str
    path: str
    name: str


_FIELDS = {f.name for f in dataclasses.fields(FsEntry)}


def _entry(raw: Any) -> FsEntry:
    if not isinstance(raw, dict):
        raise ProtocolError(f"expected a filesystem entry, got {raw!r:.200}")
    return FsEntry(**{k: raw.get(k) for k in _FIELDS})


class Watch:
    """A running directory watch: iterate it for events; ``stop()`` (or ``with``) ends it."""

    def __init__(self, chunks: Iterator[bytes], decoder: NdjsonDecoder, pending: list):
        self._chunks = chunks
        self._decoder = decoder
        self._pending = pending

    def __iter__(self) -> Iterator[WatchEvent]:
        while self._pending:
            yield self._pending.pop(0)
        for chunk in self._chunks:
            for raw in self._decoder.push(chunk):
                yield WatchEvent(raw.get("type"), raw.get("path"), raw.get("name"))

    def stop(self) -> None:
        self._chunks.close()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class Filesystem:
    def __init__(self, transport: Transport, sandbox_id: str):
        self._t = transport
        self._id = sandbox_id

    def _url(self, op: str, path: Optional[str] = None, extra: str = "") -> str:
        q = "" if path is None else f"?path={quote(path, safe='')}{extra}"
        return f"/v1/sandboxes/{quote(self._id, safe='')}/fs/{op}{q}"

    def list(self, path: str, *, depth: int = 1) -> list:
        """Entries of a directory, sorted by name; ``depth`` > 1 goes into subdirectories."""
        extra = f"&depth={depth}" if depth != 1 else ""
        answer = self._t.json("GET", self._url("list", path, extra)) or {}
        return [_entry(e) for e in answer.get("entries", [])]

    def stat(self, path: str) -> FsEntry:
        return _entry(self._t.json("GET", self._url("stat", path)))

    def mkdir(self, path: str, *, parents: bool = False) -> FsEntry:
        """Creates a directory (with its parents if ``parents``); FileExistsError if it exists."""
        return _entry(self._t.json("POST", self._url("mkdir"), json_body={"path": path, "parents": parents}))

    def move(self, path: str, to: str) -> FsEntry:
        """Renames ``path`` to ``to`` (replacing a file there, as rename(2))."""
        return _entry(self._t.json("POST", self._url("move"), json_body={"path": path, "to": to}))

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Removes a file, an empty directory, or with ``recursive`` a whole tree."""
        self._t.request("POST", self._url("remove"), json_body={"path": path, "recursive": recursive})

    def watch(self, path: str, *, recursive: bool = False) -> Watch:
        """Watches a directory; returns once the watch is in place.

        Example::

            with sb.fs.watch("/root/out") as w:
                for ev in w:
                    if ev.name == "done":
                        break
        """
        chunks = self._t.stream("GET", self._url("watch", path, "&recursive=true" if recursive else ""),
                                timeout=None, accept="application/x-ndjson")
        decoder = NdjsonDecoder()
        pending: list = []
        for chunk in chunks:  # the first event says the watch is in place
            events = [WatchEvent(r.get("type"), r.get("path"), r.get("name")) for r in decoder.push(chunk)]
            if events:
                pending.extend(events[1:])
                break
        return Watch(chunks, decoder, pending)
