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


def upload_args(data: Any, path: Any) -> tuple[bytes, str]:
    """Checks ``upload`` arguments, data first and path second (Podflare's order), and
    returns them as (bytes, path). Nothing is guessed from the values: a call with the two
    swapped would otherwise write the content under a name made of the path. str data is
    encoded as UTF-8."""
    if isinstance(path, (bytes, bytearray, memoryview)) and isinstance(data, str):
        raise TypeError("upload(data, path) takes the data first and the path second:"
                        f" upload(<bytes>, {data[:60]!r})")
    if not isinstance(path, str) or not path:
        raise TypeError('upload(data, path): path must be a non-empty str,'
                        ' e.g. upload("hello", "/root/notes.txt")')
    if isinstance(data, str):
        return data.encode("utf-8"), path
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), path
    raise TypeError(f"upload(data, path): data must be bytes or str, got {type(data).__name__}")


def put_file(transport: Transport, sandbox_id: str, data: Any, path: Any) -> None:
    body, target = upload_args(data, path)
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
    def upload(self, data: Any, path: Any) -> None:
        """Writes ``data`` to the file ``path`` in the sandbox, creating parent directories
        (a relative path is taken from /root). str data is written as UTF-8. The order is
        always Podflare's ``(data, path)``: two strs are never reordered by their look.

        Example::

            sb.upload(b"\\x00\\x01", "/root/data.bin")
            sb.upload("hello\\n", "/root/notes.txt")
        """
        self._check_open()
        put_file(self._transport, self.id, data, path)

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
