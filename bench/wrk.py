"""What the HTTP benchmarks share: `wrk` as the load generator, and a child process's peak RSS.

`wrk` (Debian package `wrk`) runs as a separate C process on 127.0.0.1, so the load generator
is not the bottleneck and shares no interpreter with the server it measures.
"""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The summed peak resident size (VmHWM) of `pid` and its descendants, in MB."""
    total = 0
    for process in _tree(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def _tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in (task / "children").read_text().split():
            pids += _tree(int(child))
    return pids


def seconds(text: str) -> float:
    """wrk's durations: `812.00us`, `3.21ms`, `1.02s`, `2.00m`."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    number, unit = found.groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def run_wrk(url: str, script: Path, connections: int, duration: int) -> dict[str, Any]:
    """wrk with `connections` connections on up to 2 threads for `duration` seconds:
    requests, requests/s, p50/p99 in ms, non-2xx answers and socket errors."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def field(pattern: str) -> str:
        found = re.search(pattern, out, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"cannot read wrk's output ({pattern}):\n{out}")
        return found.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": int(field(r"(\d+) requests in")),
        "requests_per_s": float(field(r"^Requests/sec:\s+([\d.]+)")),
        # Anchored: the Stdev column of wrk's summary can read `57.50%` too.
        "p50_ms": seconds(field(r"^\s+50%\s+(\S+)\s*$")) * 1000,
        "p99_ms": seconds(field(r"^\s+99%\s+(\S+)\s*$")) * 1000,
        "non_200": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else "none",
    }
