"""GMPL's date and time functions: str2time, time2str, gmtime.

Times are seconds since 1970-01-01 00:00:00 UTC, as in GMPL. `str2time(s, f)` reads s with the
strptime-style format f; a component the format does not give is taken from 1970-01-01 00:00:00
(so `str2time("3", "%m")` is 1 March 1970). `time2str(t, f)` writes t with strftime.
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime, timezone

import numpy as np


def str2time(texts: np.ndarray, formats: np.ndarray) -> np.ndarray:
    out = np.empty(len(texts), dtype=np.float64)
    for k, (s, f) in enumerate(zip(texts, formats)):
        fmt = str(f)
        text = str(int(s)) if isinstance(s, float) and s.is_integer() else str(s)
        if "%Y" not in fmt and "%y" not in fmt:  # strptime's default year is 1900; GMPL's is 1970
            fmt, text = fmt + " %Y", text + " 1970"
        try:
            d = datetime.strptime(text, fmt)
        except ValueError as err:
            raise ValueError(f"str2time('{s}', '{f}'): {err}") from None
        out[k] = calendar.timegm(d.timetuple())
    return out


def time2str(times: np.ndarray, formats: np.ndarray) -> np.ndarray:
    out = np.empty(len(times), dtype=object)
    for k, (t, f) in enumerate(zip(times, formats)):
        out[k] = datetime.fromtimestamp(float(t), tz=timezone.utc).strftime(str(f))
    return out


def gmtime(n: int) -> np.ndarray:
    return np.full(n, float(int(time.time())))
