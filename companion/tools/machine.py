"""What machine a measurement ran on: the CPU's name and a one-line description."""
import os
import platform
from pathlib import Path

__all__ = ["cpu_name", "describe"]


def cpu_name():
    """The CPU's model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe():
    """CPU, core count, PyTorch's CPU capability and thread count, and the Python version, as one line."""
    import torch

    return (f"{cpu_name()}, {os.cpu_count()} CPU cores, PyTorch CPU capability "
            f"{torch.backends.cpu.get_cpu_capability()} with {torch.get_num_threads()} threads, "
            f"Python {platform.python_version()}")
