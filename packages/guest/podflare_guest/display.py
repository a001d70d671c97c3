# Rich results, as Jupyter shows them: a MIME bundle per displayed object (text/plain always,
# plus whatever the object's _repr_*_ methods give; matplotlib figures as PNG), sent to hostd
# as `result` frames after the output printed before them.

import base64
import builtins
import sys

RESULT_MAX_BYTES = 4 * 1024 * 1024  # protocol limits.maxResultBytes: one result frame

# (MIME type, method) in the order Jupyter's formatters know them.
_REPR_METHODS = (
    ("text/html", "_repr_html_"),
    ("text/markdown", "_repr_markdown_"),
    ("image/svg+xml", "_repr_svg_"),
    ("image/png", "_repr_png_"),
    ("image/jpeg", "_repr_jpeg_"),
    ("application/json", "_repr_json_"),
    ("text/latex", "_repr_latex_"),
)
_BINARY = ("image/png", "image/jpeg")


def bundle(obj):
    """The MIME bundle of obj: {mime: text}, binary types in base64."""
    data = {}
    if _is_figure(obj):
        png = figure_png(obj)
        if png:
            data["image/png"] = png
    extra = _call_repr(obj, "_repr_mimebundle_")
    if isinstance(extra, dict):
        for mime, value in extra.items():
            text = _as_text(mime, value)
            if isinstance(mime, str) and text is not None:
                data.setdefault(mime, text)
    for mime, method in _REPR_METHODS:
        if mime in data:
            continue
        text = _as_text(mime, _call_repr(obj, method))
        if text is not None:
            data[mime] = text
    data["text/plain"] = _plain(obj)
    return data


def _call_repr(obj, method):
    if isinstance(obj, type):
        return None  # the class's unbound method, not a representation of the class
    try:
        fn = getattr(obj, method, None)
        if not callable(fn):
            return None
        value = fn()
    except Exception:
        return None  # a broken _repr_*_ costs that MIME type only, as in Jupyter
    if isinstance(value, tuple) and len(value) == 2:
        value = value[0]  # (data, metadata)
    return value


def _as_text(mime, value):
    if value is None:
        return None
    if mime in _BINARY or (isinstance(value, bytes) and not str(mime).startswith("text/")):
        if isinstance(value, str):
            return value  # already base64, as Jupyter expects
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(value).decode("ascii")
        return None
    if mime == "application/json" and not isinstance(value, str):
        import json  # only when an object has _repr_json_

        try:
            return json.dumps(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _plain(obj):
    try:
        return repr(obj)
    except Exception:
        return object.__repr__(obj)


def _is_figure(obj):
    figure = sys.modules.get("matplotlib.figure")
    return figure is not None and isinstance(obj, figure.Figure)


def figure_png(fig):
    import io  # only when a figure is shown

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", bbox_inches="tight")
    except Exception:
        return None
    return base64.b64encode(buf.getvalue()).decode("ascii")


def open_figures():
    """pyplot's open figures, oldest first; none unless the user imported pyplot."""
    helpers = sys.modules.get("matplotlib._pylab_helpers")
    if helpers is None or "matplotlib.pyplot" not in sys.modules:
        return []
    return [m.canvas.figure for m in helpers.Gcf.get_all_fig_managers()]


class Publisher:
    """Sends the running cell's results; display() outside a cell prints text/plain.

    display() sends at once, after syncing the output before it. The results of the cell's
    end (the last expression, open figures) are kept and sent after the exec's own output
    sync (send_pending), which saves a sync per cell.
    """

    def __init__(self, capture):
        self.capture = capture
        self.sink = None  # (conn, job id) while a python cell runs
        self.shown = set()  # ids of figures sent this cell
        self.deferred = False
        self.pending = []  # (main, JSON payload) for send_pending
        self.wanted = True  # the exec asked for its results (hostd's `results`)

    def begin(self, conn, job_id, wanted=True):
        self.sink = (conn, job_id)
        self.shown = set()
        self.deferred = False
        self.pending = []
        self.wanted = wanted

    def defer_interrupt(self):
        """An interrupt landed while a result was being sent (repl.on_sigint): kernel
        bookkeeping, so it is raised once the send is done (or dropped after the main result,
        when the code has returned)."""
        self.deferred = True

    def _raise_deferred(self):
        if self.deferred:
            self.deferred = False
            raise KeyboardInterrupt

    def end(self):
        self.sink = None
        self.shown = set()

    def display(self, *objs, **_ignored):
        for obj in objs:
            self.publish(obj, main=False)

    def publish(self, obj, main):
        sink = self.sink
        if sink is None:
            print(_plain(obj))
            return
        if not self.wanted:
            return  # nobody reads them: not even rendered
        data = bundle(obj)
        if _is_figure(obj):
            self.shown.add(id(obj))
        if main:
            self._keep(data, main=True)
            return
        self.send(data, main=False)
        self._raise_deferred()

    def send(self, data, main):
        sink = self.sink
        if sink is None:
            return
        payload = self._payload(data)
        self.capture.sync()  # the lines printed before this result go first
        if payload is not None:
            conn, job_id = sink
            conn.send({"t": "result", "id": job_id, "main": bool(main)}, payload)

    def send_pending(self, conn, job_id):
        """The cell's end results, once its output is all sent (Repl.run)."""
        pending, self.pending = self.pending, []
        for main, payload in pending:
            conn.send({"t": "result", "id": job_id, "main": main}, payload)

    def _keep(self, data, main):
        payload = self._payload(data)
        if payload is not None:
            self.pending.append((main, payload))

    def _payload(self, data):
        """The result as JSON, or None (with a note on stderr) when over the limit."""
        import json  # first result only: kept out of kernel start

        payload = json.dumps(data).encode("utf-8")
        if len(payload) > RESULT_MAX_BYTES:
            self.capture.write_stderr(
                (f"podflare: a display result of {len(payload)} bytes exceeds the limit of "
                 f"{RESULT_MAX_BYTES} bytes per result and was dropped; write it to a file and "
                 "download that instead\n").encode())
            return None
        return payload

    def flush_figures(self):
        """Each pyplot figure still open at the end of a cell, as image/png; then closed, as
        Jupyter's inline backend does."""
        figures = open_figures()
        if not figures:
            return
        pyplot = sys.modules["matplotlib.pyplot"]
        for fig in figures:
            try:
                if self.wanted and id(fig) not in self.shown:
                    data = {"text/plain": _plain(fig)}
                    png = figure_png(fig)
                    if png:
                        data["image/png"] = png
                    self._keep(data, main=False)
            finally:
                pyplot.close(fig)


def install(publisher):
    """display() for user code: a builtin (so it needs no import and stays out of the
    namespace a Space or fork carries), and IPython.display.display if IPython is loaded."""
    builtins.display = publisher.display
    patch_ipython(publisher)


def patch_ipython(publisher):
    for name in ("IPython.display", "IPython.core.display_functions", "IPython.core.display"):
        mod = sys.modules.get(name)
        if mod is not None and getattr(mod, "display", None) is not publisher.display:
            try:
                mod.display = publisher.display
            except Exception:
                pass  # a module that refuses attributes keeps its own
