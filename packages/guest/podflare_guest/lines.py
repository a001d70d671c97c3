# Cutting an output stream into `out` frame bodies that end at a newline where possible.

# A line longer than this goes out without waiting for its newline.
MAX_PARTIAL_BYTES = 64 * 1024
# Keep bodies well under the 8 MiB frame limit.
MAX_CHUNK_BYTES = 1024 * 1024


class LineBuffer:
    def __init__(self):
        self._partial = bytearray()

    def feed(self, data):
        """Add bytes; return the chunks ready to send (whole lines, or an over-long line)."""
        if not data:
            return []
        self._partial += data
        cut = self._partial.rfind(b"\n") + 1
        if len(self._partial) >= MAX_PARTIAL_BYTES:
            cut = len(self._partial)
        if cut == 0:
            return []
        ready = bytes(self._partial[:cut])
        del self._partial[:cut]
        return split(ready)

    def flush(self):
        """Everything still held (a partial line), as chunks."""
        ready = bytes(self._partial)
        self._partial.clear()
        return split(ready)

    @property
    def pending(self):
        return len(self._partial) > 0


def split(data):
    if len(data) <= MAX_CHUNK_BYTES:
        return [data] if data else []
    chunks = []
    start = 0
    while start < len(data):
        end = min(start + MAX_CHUNK_BYTES, len(data))
        if end < len(data):
            nl = data.rfind(b"\n", start, end)
            if nl >= start:
                end = nl + 1
        chunks.append(data[start:end])
        start = end
    return chunks
