"""The file API of a sandbox: upload, download, list, remove (GET/PUT/DELETE .../files?path=).
A GET answers JSON for a directory and raw bytes for a file; each call checks it got the kind
it asked for. FileMethods are the Sandbox methods."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .base import SandboxBase
from .connection import Transport
from .errors import IsADirectoryError, NotADirectoryError, ProtocolError
from .paths import file_path


@dataclass(frozen=True)
class FileEntry:
    """One entry of a directory listing (``type`` is "file", "dir", "symlink" or "other")."""

    name: str
    type: str
    size: int
    mode: int
    mtime_ms: int


_BYTES = (bytes, bytearray, memoryview)
_UNSET: Any = object()


def upload_args(data: Any, path: Any) -> tuple[bytes, str]:
    """Checks ``upload``'s two positional arguments and returns them as (bytes, path).
    Podflare's order is data first, path second. The one call read the other way is the
    unambiguous one: a str first and bytes second can only be (path, data), the order the
    hosted SDK's README writes (``upload("data.csv", b"...")``). Everything else stays data
    first; two strs are never reordered by their look. str data is encoded as UTF-8."""
    if isinstance(data, str) and isinstance(path, _BYTES):
        data, path = path, data
    if not isinstance(path, str) or not path:
        raise TypeError('upload(data, path): path must be a non-empty str,'
                        ' e.g. upload("hello", "/root/notes.txt") or upload("/root/a.bin", b"\\x00")')
    if isinstance(data, str):
        return data.encode("utf-8"), path
    if isinstance(data, _BYTES):
        return bytes(data), path
    raise TypeError(f"upload(data, path): data must be bytes or str, got {type(data).__name__}")


def upload_call(args: tuple, data: Any = _UNSET, path: Any = _UNSET) -> tuple[bytes, str]:
    """``upload``'s arguments however they were given: two positionals (see upload_args), the
    keywords ``data=`` and ``path=`` (taken as named), or one positional and the other keyword."""
    if data is _UNSET and path is _UNSET:
        if len(args) != 2:
            raise TypeError(f"upload(data, path) takes 2 arguments, got {len(args)}")
        return upload_args(*args)
    if len(args) + (data is not _UNSET) + (path is not _UNSET) != 2:
        raise TypeError("upload(data, path): give the data and the path once each")
    if data is _UNSET:
        data = args[0]
    elif path is _UNSET:
        path = args[0]
    if isinstance(data, str) and isinstance(path, _BYTES):
        raise TypeError("upload(data=..., path=...): data= is the content and path= the file name")
    return upload_args(data, path)


def put_file(transport: Transport, sandbox_id: str, body: bytes, target: str) -> None:
    transport.request("PUT", file_path(sandbox_id, target), body=body,
                      content_type="application/octet-stream")


def get_file(transport: Transport, sandbox_id: str, path: str) -> bytes:
    res = transport.request("GET", file_path(sandbox_id, path))
    if res.content_type.lower().startswith("application/json"):
        raise IsADirectoryError(
            f"{path} is a directory in sandbox {sandbox_id}; use list({path!r}) to see its entries")
    return res.body


def list_dir(transport: Transport, sandbox_id: str, path: str) -> list[FileEntry]:
    res = transport.request("GET", file_path(sandbox_id, path), accept="application/json")
    if not res.content_type.lower().startswith("application/json"):
        raise NotADirectoryError(
            f"{path} is a file in sandbox {sandbox_id}; use download({path!r}) to read it")
    try:
        listing = json.loads(res.body)
        entries = listing["entries"]
        return [FileEntry(e["name"], e["type"], e["size"], e["mode"], e["mtime_ms"]) for e in entries]
    except (ValueError, KeyError, TypeError) as err:
        raise ProtocolError(f"listing of {path} is not a valid directory listing: {err!r}") from None


def remove_path(transport: Transport, sandbox_id: str, path: str) -> None:
    transport.request("DELETE", file_path(sandbox_id, path))


class FileMethods(SandboxBase):
    def upload(self, *args: Any, data: Any = _UNSET, path: Any = _UNSET) -> None:
        """Writes ``data`` to the file ``path`` in the sandbox, creating parent directories
        (a relative path is taken from /root). str data is written as UTF-8. The order is
        Podflare's ``(data, path)``, except that a str then bytes is ``(path, data)``, as the
        hosted README writes it; two strs are never reordered by their look. The keywords
        ``data=`` and ``path=`` are taken as named.

        Example::

            sb.upload(b"\\x00\\x01", "/root/data.bin")
            sb.upload("hello\\n", "/root/notes.txt")
            sb.upload("data.csv", open("local.csv", "rb").read())   # path first: bytes second
            sb.upload(path="/root/run.sh", data="#!/bin/sh\\necho hi\\n")
        """
        self._check_open()
        body, target = upload_call(args, data, path)
        put_file(self._transport, self.id, body, target)

    def download(self, path: str) -> bytes:
        """Reads a file from the sandbox. A directory raises :class:`IsADirectoryError`:
        use ``list(path)``.

        Example::

            data = sb.download("/root/data.bin")
        """
        self._check_open()
        return get_file(self._transport, self.id, path)

    def list(self, path: str) -> list[FileEntry]:
        """Lists a directory in the sandbox. A file raises :class:`NotADirectoryError`:
        use ``download(path)``.

        Example::

            for e in sb.list("/root"):
                print(e.type, e.name, e.size)
        """
        self._check_open()
        return list_dir(self._transport, self.id, path)

    def remove(self, path: str) -> None:
        """Removes a file, symlink or directory tree in the sandbox.

        Example::

            sb.remove("/root/data.bin")
        """
        self._check_open()
        remove_path(self._transport, self.id, path)
