"""Which torch device trains: ``auto`` (CUDA, else MPS, else CPU), and why a device is unavailable."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")


class UnavailableDevice(ValueError):
    """The requested device does not exist here; the message says why."""


class DeviceMemoryError(RuntimeError):
    """The device ran out of memory; the message says how much was asked for and what to try."""


@dataclass(frozen=True)
class DeviceInfo:
    """One device kind: available or not, and a one-line description or reason."""

    name: str
    available: bool
    detail: str


def devices() -> list[DeviceInfo]:
    """CPU, CUDA and MPS with their availability and, when unavailable, the reason."""
    import torch

    out = [DeviceInfo("cpu", True, f"CPU, {torch.get_num_threads()} threads")]
    if not torch.backends.cuda.is_built():
        out.append(DeviceInfo("cuda", False, "this torch build has no CUDA support (a CPU-only wheel)"))
    elif not torch.cuda.is_available():
        out.append(DeviceInfo("cuda", False, "torch has CUDA, but no NVIDIA GPU or driver was found"))
    else:
        props = torch.cuda.get_device_properties(0)
        out.append(DeviceInfo("cuda", True, f"{props.name}, {props.total_memory / 2**30:.0f} GiB"))
    if not torch.backends.mps.is_built():
        out.append(DeviceInfo("mps", False, "this torch build has no MPS support (MPS is Apple silicon only)"))
    elif not torch.backends.mps.is_available():
        out.append(DeviceInfo("mps", False, "torch has MPS, but this machine is not a Mac with Apple silicon"))
    else:
        out.append(DeviceInfo("mps", True, "Apple silicon GPU (float32 only)"))
    return out


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA if available, else MPS, else CPU; an unavailable device raises :class:`UnavailableDevice`."""
    import torch

    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise UnavailableDevice(f"device must be one of {list(DEVICE_NAMES)}, got {name!r}")
    kind = name.strip().lower()
    found = {info.name: info for info in devices()}
    if kind == "auto":
        for candidate in ("cuda", "mps", "cpu"):
            if found[candidate].available:
                return torch.device(candidate)
    base = kind.split(":", 1)[0]
    if base not in found:
        raise UnavailableDevice(f"Unknown device {name!r}; choose one of {list(DEVICE_NAMES)}")
    if not found[base].available:
        raise UnavailableDevice(f"{base.upper()} is unavailable: {found[base].detail}.")
    try:
        device = torch.device(kind)
    except RuntimeError as error:
        raise UnavailableDevice(f"Invalid device {name!r}: {error}") from None
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UnavailableDevice(f"{name} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s).")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels, so that a wall-clock reading covers the work (GPUs run asynchronously)."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def free_memory(device: torch.device) -> None:
    """Return cached blocks to the driver after an out-of-memory error, so the next run can start clean."""
    import torch

    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps" and torch.backends.mps.is_available():
        torch.mps.empty_cache()


def copy_bandwidth(device: torch.device, nbytes: int = 1 << 28, repeats: int = 5) -> float:
    """Measured device-to-device copy bandwidth in GB/s (bytes read + bytes written, best of ``repeats``)."""
    import torch

    source = torch.empty(nbytes // 4, dtype=torch.float32, device=device)
    target = torch.empty_like(source)
    target.copy_(source)  # warm-up: first-touch page faults and kernel load are not bandwidth
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        target.copy_(source)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * source.numel() * 4 / best / 1e9
