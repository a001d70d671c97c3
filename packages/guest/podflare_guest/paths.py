# Request paths: non-empty, no NUL, relative ones taken from the kernel's start directory.

import os

from .errors import INVALID_PATH, GuestError

# Uploads land in a temporary file beside the target, renamed into place (files.py); a
# directory watch does not report it (watch.py).
UPLOAD_TMP_PREFIX = b".pf-upload-"


def resolve(path, base):
    if not isinstance(path, str) or path == "":
        raise GuestError(INVALID_PATH, "path must be a non-empty string")
    if "\0" in path:
        raise GuestError(INVALID_PATH, f"path contains a NUL byte: {path!r}")
    full = os.path.normpath(os.path.join(base, path))
    if full.startswith("//"):  # POSIX normpath keeps a leading "//"
        full = "/" + full.lstrip("/")
    return full
