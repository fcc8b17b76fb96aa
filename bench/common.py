"""Helpers every benchmark script shares: the machine description recorded
beside each run's figures."""
from __future__ import annotations

import os
import platform


def machine() -> dict:
    """CPU model, cores, memory, kernel and Python of this machine."""
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    return {"nproc": os.cpu_count(), "cpu": model, "memory_gb": round(mem / 2**30, 1),
            "kernel": platform.release(), "python": platform.python_version()}
