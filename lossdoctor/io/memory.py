"""How much memory this process can still take: the bound on everything read whole.

A file's own word about its size (a gzip trailer, a zip directory, an .npy header) is a claim
an attacker writes; what is counted while reading is held against this instead.
"""

from __future__ import annotations

import resource

_MEMINFO = "/proc/meminfo"
_STATUS = "/proc/self/status"  # VmSize: the address space this process already holds
# A container's limit and use: cgroup v2, then v1 (as mounted inside the container)
_CGROUPS = (
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)
_NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63


def available() -> int | None:
    """Bytes this process can still allocate: the least of the system's MemAvailable, the room
    under a cgroup (container) limit and the room under an address-space rlimit; None where
    nothing says."""
    room = [r for r in (_meminfo(), _cgroup_room(), _rlimit_room()) if r is not None]
    return min(room) if room else None


def _meminfo() -> int | None:
    """MemAvailable, in bytes."""
    return _field(_MEMINFO, b"MemAvailable:")


def _field(path: str, name: bytes) -> int | None:
    """A "Name: value kB" line of a /proc file, in bytes."""
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    for limit_file, usage_file in _CGROUPS:
        limit, usage = _number(limit_file), _number(usage_file)
        if limit is not None and usage is not None and limit < _NO_LIMIT:
            return max(limit - usage, 0)
    return None


def _number(path: str) -> int | None:
    """The integer a cgroup file holds; None for "max", or where there is no such file."""
    try:
        with open(path, "rb") as f:
            return int(f.read(64).strip())
    except (OSError, ValueError):
        return None


def _rlimit_room() -> int | None:
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return None
    held = _field(_STATUS, b"VmSize:")
    return max(limit - (held or 0), 0)


def shown(size: int) -> str:
    """A number of bytes as a message says it: GB, MB, or bytes when few."""
    if size >= 1e8:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size:,} bytes"
