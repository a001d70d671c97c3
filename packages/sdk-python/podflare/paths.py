"""REST paths of one sandbox, with its id and file paths escaped."""

from __future__ import annotations

import urllib.parse


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def sandbox_path(sandbox_id: str, suffix: str) -> str:
    return f"/v1/sandboxes/{q(sandbox_id)}{suffix}"


def file_path(sandbox_id: str, path: str) -> str:
    if not isinstance(path, str) or not path:
        raise TypeError('a file path must be a non-empty str, e.g. "/root/data.csv"')
    return f"{sandbox_path(sandbox_id, '/files')}?path={q(path)}"
