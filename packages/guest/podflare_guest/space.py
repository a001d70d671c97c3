# Spaces: the REPL namespace saved to a file inside the sandbox's root (so the root snapshot
# carries it) and loaded again in a new sandbox. dill when the template has it, pickle
# otherwise; modules are kept by name and re-imported. Whatever cannot be kept is listed,
# never dropped silently.
import os
import types

# pickle and importlib are imported where used: Spaces are rare, kernel start is not.


def _serializer_module():
    """dill (python3-dill, in python-datasci) pickles lambdas and REPL-defined classes and
    functions; imported only when a Space is made, so kernel start stays fast."""
    try:
        import dill
        return dill
    except ImportError:
        import pickle  # only when dill is missing
        return pickle


def _dumps(serializer, value):
    """serializer.dumps, but plain pickle refuses what it would keep by name only in __main__
    (functions, classes and their instances defined in the REPL): the load could never find
    them, and the freeze said they were saved (outside tester ts)."""
    import io
    import pickle
    if serializer is not pickle:
        return serializer.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    class _Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if isinstance(obj, (types.FunctionType, type)) and getattr(obj, "__module__", None) == "__main__":
                raise pickle.PicklingError(
                    f"{obj.__qualname__} is defined in the REPL and pickle keeps it by name only; "
                    "define it again after resume (a template with python3-dill keeps it)")
            return NotImplemented

    buf = io.BytesIO()
    _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buf.getvalue()


def _keepable(name):
    return not (name.startswith("__") and name.endswith("__"))


def save(namespace, path):
    """Writes the namespace to `path`; returns the manifest."""
    import pickle  # here, not at the top: kept out of kernel start
    _serializer = _serializer_module()
    modules, values, failed = {}, {}, []
    for name, value in list(namespace.items()):
        if not _keepable(name):
            continue
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__
            continue
        try:
            values[name] = _dumps(_serializer, value)
        except Exception as e:  # any object may refuse
            failed.append({"name": name, "reason": f"{type(e).__name__}: {e}"[:300]})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump({"serializer": _serializer.__name__, "modules": modules, "values": values}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return {
        "serializer": _serializer.__name__,
        "saved": sorted(values),
        "modules": sorted(modules),
        "failed": failed,
        "processes": _other_processes(),
    }


def load(namespace, path):
    """Restores what `save` wrote, then removes the file; returns what came back and what did not."""
    import importlib  # here, not at the top: kept out of kernel start
    import pickle
    with open(path, "rb") as f:
        state = pickle.load(f)
    _serializer = _serializer_module()
    restored, failed = [], []
    for name, module in sorted(state["modules"].items()):
        try:
            namespace[name] = importlib.import_module(module)
            restored.append(name)
        except Exception as e:  # any import may fail: reported per name
            failed.append({"name": name, "reason": f"import {module}: {type(e).__name__}: {e}"[:300]})
    loader = _serializer if state["serializer"] == _serializer.__name__ else pickle
    for name, data in sorted(state["values"].items()):
        try:
            namespace[name] = loader.loads(data)
            restored.append(name)
        except Exception as e:  # any value may refuse to load: reported per name
            failed.append({"name": name, "reason": f"{type(e).__name__}: {e}"[:300]})
    os.unlink(path)
    return {"restored": sorted(restored), "failed": failed}


def _other_processes():
    """Command lines of the sandbox's processes that a Space cannot carry (servers, jobs)."""
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in (1, me):
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").strip().decode("utf-8", "replace")
            with open(f"/proc/{entry}/status") as f:
                ppid = next((int(line.split()[1]) for line in f if line.startswith("PPid:")), 0)
        except OSError:
            continue
        if cmd and ppid != me:
            out.append(cmd[:200])
    return sorted(out)
