"""What the compatibility suites share: loopback addresses, ports, socket helpers."""

from __future__ import annotations

import socket
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SERVER_BIN = REPO_ROOT / ".build" / "debug" / "toxiproxy-server"
STARTUP_DEADLINE_S = 30.0
POLL_INTERVAL_S = 0.05
SHUTDOWN_DEADLINE_S = 5.0
SOCKET_TIMEOUT_S = 5.0
MAX_START_ATTEMPTS = 5


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago (the caller retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def split_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def recv_exactly(sock: socket.socket, count: int, *, deadline_s: float = SOCKET_TIMEOUT_S) -> bytes:
    """Read exactly `count` bytes or fail: EOF, socket timeout or overall deadline."""
    deadline = time.monotonic() + deadline_s
    chunks = []
    received = 0
    while received < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"deadline: got {received} of {count} bytes")
        sock.settimeout(min(remaining, SOCKET_TIMEOUT_S))
        chunk = sock.recv(min(65536, count - received))
        if not chunk:
            raise AssertionError(f"connection closed after {received} of {count} bytes")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def connect(address: str) -> socket.socket:
    host, port = split_host_port(address)
    assert host == LOOPBACK, f"tests only talk to 127.0.0.1, got {address!r}"
    sock = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S)
    sock.settimeout(SOCKET_TIMEOUT_S)
    return sock
