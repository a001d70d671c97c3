"""The launch helper's config (launch.py's stdin, and each fork child's from fork.py): checked
and normalised before anything is made, so a bad id or path is refused, never used."""

import json
import os
import re

import counters

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class ConfigError(Exception):
    pass


def load_config(raw: str) -> dict:
    cfg = json.loads(raw)
    if not isinstance(cfg, dict):
        raise ConfigError("config must be a JSON object")
    sid = cfg.get("id")
    if not isinstance(sid, str) or not ID_RE.match(sid):
        raise ConfigError("id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
    host = cfg.get("hostname") or sid
    if not isinstance(host, str) or not ID_RE.match(host):
        raise ConfigError("hostname must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
    for key in ("rootfs", "guestDir"):
        v = cfg.get(key)
        if not isinstance(v, str) or not v.startswith("/") or "\0" in v:
            raise ConfigError(f"{key} must be an absolute path")
        cfg[key] = os.path.normpath(v)
    base, count = cfg.get("uidBase"), cfg.get("uidCount", 65536)
    if not isinstance(base, int) or not isinstance(count, int):
        raise ConfigError("uidBase and uidCount must be integers")
    # The range must never contain host root or ordinary host users.
    if base < 65536 or count < 1 or base + count > 2**32 - 1:
        raise ConfigError("uidBase must be >= 65536 and the range must fit in 32 bits")
    procs = cfg.get("cgroupProcs", [])
    if not isinstance(procs, list) or not all(isinstance(p, str) and p.startswith("/")
                                              for p in procs):
        raise ConfigError("cgroupProcs must be a list of absolute paths")
    fam_procs = cfg.get("familyCgroupProcs", procs)
    if not isinstance(fam_procs, list) or not all(isinstance(p, str) and p.startswith("/")
                                                  for p in fam_procs):
        raise ConfigError("familyCgroupProcs must be a list of absolute paths")
    family = cfg.get("family")
    if family is not None:
        if (not isinstance(family, dict) or not isinstance(family.get("pid"), int)
                or not isinstance(family.get("startTime"), int)):
            raise ConfigError("family must be {pid, startTime} of a running family init")
        cfg["family"] = (family["pid"], family["startTime"])
    try:
        cfg["familyLimits"] = counters.check_limits(cfg.get("familyLimits"))
    except ValueError as e:
        raise ConfigError(str(e)) from None
    cfg["hostname"], cfg["uidCount"], cfg["cgroupProcs"] = host, count, procs
    cfg["familyCgroupProcs"] = fam_procs
    return cfg
