"""Fixtures shared by the compatibility suites: an echo upstream and our server, one of each per session.

Each suite drives the server with a third-party client, then reads its real state and sends real traffic.
"""

from __future__ import annotations

import os
import signal
import socketserver
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from compat_support import (
    DEFAULT_SERVER_BIN,
    LOOPBACK,
    MAX_START_ATTEMPTS,
    POLL_INTERVAL_S,
    SHUTDOWN_DEADLINE_S,
    STARTUP_DEADLINE_S,
    free_port,
)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(30.0)
        try:
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                self.request.sendall(data)
        except OSError:
            return


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="session")
def echo_server():
    server = _EchoServer((LOOPBACK, 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"{host}:{port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _server_binary() -> Path:
    binary = Path(os.environ.get("TOXIPROXY_SERVER_BIN", str(DEFAULT_SERVER_BIN)))
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(f"server binary not found or not executable: {binary} (set TOXIPROXY_SERVER_BIN)")
    return binary


def _version_answers(port: int) -> bool:
    try:
        response = requests.get(f"http://{LOOPBACK}:{port}/version", timeout=1.0)
    except requests.RequestException:
        return False
    return response.status_code == 200


@pytest.fixture(scope="session")
def toxiproxy_server(tmp_path_factory):
    """Our `toxiproxy-server` on a free loopback port; SIGTERM at the end must exit 0 within 5 s."""
    binary = _server_binary()
    log_dir = tmp_path_factory.mktemp("toxiproxy-server")
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    process = None
    port = None
    log_path = None
    failures = []
    for attempt in range(1, MAX_START_ATTEMPTS + 1):
        port = free_port()
        log_path = log_dir / f"server-{attempt}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(binary), "-host", LOOPBACK, "-port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        while process.poll() is None and time.monotonic() < deadline:
            if _version_answers(port):
                break
            time.sleep(POLL_INTERVAL_S)
        if process.poll() is None and _version_answers(port):
            break
        if process.poll() is None:  # deadline passed and still not answering
            process.kill()
            process.wait(timeout=5)
            pytest.fail(
                f"server did not answer GET /version within {STARTUP_DEADLINE_S} s; log:\n"
                + log_path.read_text(errors="replace")
            )
        # Exited early (e.g. the port was taken between probe and bind): retry on another port.
        failures.append(f"attempt {attempt} (port {port}) exited {process.returncode}: "
                        + log_path.read_text(errors="replace")[-2000:])
        process = None
        if time.monotonic() >= deadline:
            break
    if process is None:
        pytest.fail("server failed to start:\n" + "\n".join(failures))

    yield {"host": LOOPBACK, "port": port, "process": process, "log": log_path}

    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=SHUTDOWN_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
            pytest.fail(f"server did not exit within {SHUTDOWN_DEADLINE_S} s of SIGTERM; log tail:\n"
                        + log_path.read_text(errors="replace")[-4000:])
    else:
        code = process.returncode
        pytest.fail(f"server had already exited with {code} before SIGTERM; log tail:\n"
                    + log_path.read_text(errors="replace")[-4000:])
    assert code == 0, (f"server exited with {code} after SIGTERM; log tail:\n"
                       + log_path.read_text(errors="replace")[-4000:])
