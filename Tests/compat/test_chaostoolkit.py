"""Compatibility tests: the Chaos Toolkit driver `chaostoolkit-toxiproxy` (PyPI) drives our server.

Every action and probe the driver has (chaostoxi 0.3.1) is called unchanged, as an experiment would
call it, with the driver's own `configuration` keys (`toxiproxy_host` / `toxiproxy_port`, or
`toxiproxy_url`):

* chaostoxi.proxy.actions: create_proxy, modify_proxy, disable_proxy, enable_proxy, delete_proxy, reset
* chaostoxi.proxy.probes:  proxy_exist, get_proxy_attribute
* chaostoxi.toxic.actions: create_toxic, create_latency_toxic, create_bandwith_degradation_toxic,
  create_slow_connection_close_toxic, create_timeout_toxic, create_slicer_toxic, create_limiter_toxic,
  delete_toxic

After each call the server's real state is read back through the admin API (GET /proxies/NAME and
its toxics), independently of the driver, and for the latency, bandwidth, timeout and limit_data
helpers real traffic goes through the proxy. One test runs an action the way the `chaos` CLI does,
through chaoslib's activity runner.

Every network target is 127.0.0.1. Every wait is a bounded poll with a deadline.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

import pytest
import requests

from compat_support import (
    LOOPBACK,
    SOCKET_TIMEOUT_S,
    free_port,
    split_host_port,
    recv_exactly,
    connect,
)

# No HTTP proxy from the environment between `requests` (used by the driver) and our loopback server.
for _variable in ("NO_PROXY", "no_proxy"):
    os.environ[_variable] = "127.0.0.1,localhost"

from chaoslib.activity import run_activity  # noqa: E402
from chaostoxi.proxy import actions as proxy_actions  # noqa: E402
from chaostoxi.proxy import probes as proxy_probes  # noqa: E402
from chaostoxi.toxic import actions as toxic_actions  # noqa: E402


HTTP_TIMEOUT_S = 5.0


# --------------------------------------------------------------------------- helpers


def unique_name(prefix: str) -> str:
    # Underscores only: the driver also exports NAME_PORT as an environment variable.
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def recv_until_eof(sock: socket.socket, *, deadline_s: float) -> tuple[bytes, float]:
    """Read until the peer closes; returns the bytes and the seconds it took. Fails at the deadline."""
    started = time.monotonic()
    deadline = started + deadline_s
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no EOF within {deadline_s} s (got {sum(map(len, chunks))} bytes)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return b"".join(chunks), time.monotonic() - started
        chunks.append(chunk)


def round_trip(address: str, payload: bytes = b"ping\n", *, deadline_s: float = SOCKET_TIMEOUT_S):
    """Fresh connection; time from sending `payload` until all of it has come back."""
    with connect(address) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        echoed = recv_exactly(sock, len(payload), deadline_s=deadline_s)
        elapsed = time.monotonic() - started
    return echoed, elapsed


def connection_refused(address: str) -> bool:
    host, port = split_host_port(address)
    try:
        sock = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S)
    except ConnectionRefusedError:
        return True
    sock.close()
    return False


class Admin:
    """The admin API read directly with `requests`, independently of the driver under test."""

    def __init__(self, host: str, port: int):
        self.base = f"http://{host}:{port}"

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, timeout=HTTP_TIMEOUT_S)

    def proxy(self, name: str) -> dict:
        response = self.get(f"/proxies/{name}")
        assert response.status_code == 200, f"GET /proxies/{name}: {response.status_code} {response.text}"
        return response.json()

    def toxics(self, name: str) -> list:
        response = self.get(f"/proxies/{name}/toxics")
        assert response.status_code == 200, f"GET /proxies/{name}/toxics: {response.status_code} {response.text}"
        return response.json()

    def toxic(self, proxy: str, toxic: str) -> dict:
        response = self.get(f"/proxies/{proxy}/toxics/{toxic}")
        assert response.status_code == 200, (f"GET /proxies/{proxy}/toxics/{toxic}: "
                                             f"{response.status_code} {response.text}")
        return response.json()

    def delete_quietly(self, name: str) -> None:
        try:
            requests.delete(f"{self.base}/proxies/{name}", timeout=HTTP_TIMEOUT_S)
        except requests.RequestException:
            pass


# --------------------------------------------------------------------------- fixtures


@pytest.fixture()
def admin(toxiproxy_server) -> Admin:
    return Admin(toxiproxy_server["host"], toxiproxy_server["port"])


@pytest.fixture()
def configuration(toxiproxy_server) -> dict:
    """The experiment `configuration` the driver reads (a fresh dict: the driver writes NAME_PORT into it)."""
    return {"toxiproxy_host": toxiproxy_server["host"], "toxiproxy_port": toxiproxy_server["port"]}


@pytest.fixture()
def proxy(admin, configuration, echo_server):
    """A proxy to the echo server made by the driver's create_proxy (listen 127.0.0.1:0), deleted afterwards."""
    name = unique_name("ctk")
    host, port = split_host_port(echo_server)
    assert proxy_actions.create_proxy(proxy_name=name, upstream_host=host, upstream_port=port,
                                      listen_host=LOOPBACK, listen_port=0,
                                      configuration=configuration) is True
    yield name
    admin.delete_quietly(name)
    os.environ.pop(f"{name}_PORT", None)


def listen_of(admin: Admin, name: str) -> str:
    return admin.proxy(name)["listen"]


# --------------------------------------------------------------------------- versions


def test_driver_versions_under_test():
    from importlib.metadata import version

    assert version("chaostoolkit-toxiproxy") == "0.3.1"
    assert version("chaostoolkit-lib") == "1.44.0"


# --------------------------------------------------------------------------- proxy actions


def test_create_proxy(admin, configuration, echo_server):
    name = unique_name("create")
    host, port = split_host_port(echo_server)
    try:
        assert proxy_actions.create_proxy(proxy_name=name, upstream_host=host, upstream_port=port,
                                          listen_host=LOOPBACK, listen_port=0,
                                          configuration=configuration) is True
        state = admin.proxy(name)
        assert state["name"] == name
        assert state["upstream"] == echo_server
        assert state["enabled"] is True
        assert state["toxics"] == []
        listen_host, listen_port = split_host_port(state["listen"])
        assert listen_host == LOOPBACK and listen_port != 0
        # The driver reads the real port from the answer and publishes it to the experiment.
        assert configuration[f"{name}_PORT"] == str(listen_port)
        assert os.environ[f"{name}_PORT"] == str(listen_port)
        echoed, _ = round_trip(state["listen"], b"created\n")
        assert echoed == b"created\n"
    finally:
        admin.delete_quietly(name)
        os.environ.pop(f"{name}_PORT", None)


def test_create_proxy_disabled_with_fixed_port_and_env_upstream(admin, configuration, echo_server, monkeypatch):
    name = unique_name("disabled")
    host, port = split_host_port(echo_server)
    monkeypatch.setenv("CTK_UPSTREAM_HOST", host)
    monkeypatch.setenv("CTK_UPSTREAM_PORT", str(port))
    listen_port = free_port()
    try:
        assert proxy_actions.create_proxy(proxy_name=name, upstream_host="env:CTK_UPSTREAM_HOST",
                                          upstream_port="env:CTK_UPSTREAM_PORT", listen_host=LOOPBACK,
                                          listen_port=listen_port, enabled=False,
                                          configuration=configuration) is True
        state = admin.proxy(name)
        assert state["listen"] == f"{LOOPBACK}:{listen_port}"
        assert state["upstream"] == echo_server
        assert state["enabled"] is False
        assert configuration[f"{name}_PORT"] == str(listen_port)
        assert connection_refused(state["listen"])
    finally:
        admin.delete_quietly(name)
        os.environ.pop(f"{name}_PORT", None)


def test_create_proxy_that_exists_fails_and_leaves_it(admin, configuration, proxy, echo_server):
    before = admin.proxy(proxy)
    with pytest.raises(AssertionError):  # the driver's answer to a 409
        proxy_actions.create_proxy(proxy_name=proxy, upstream_host=LOOPBACK, upstream_port=1,
                                   listen_host=LOOPBACK, listen_port=0, configuration=configuration)
    assert admin.proxy(proxy) == before


def test_create_proxy_through_toxiproxy_url(admin, toxiproxy_server, echo_server):
    configuration = {"toxiproxy_url": f"http://{toxiproxy_server['host']}:{toxiproxy_server['port']}"}
    name = unique_name("url")
    host, port = split_host_port(echo_server)
    try:
        assert proxy_actions.create_proxy(proxy_name=name, upstream_host=host, upstream_port=port,
                                          listen_host=LOOPBACK, configuration=configuration) is True
        assert admin.proxy(name)["upstream"] == echo_server
    finally:
        admin.delete_quietly(name)
        os.environ.pop(f"{name}_PORT", None)


def test_modify_proxy_upstream(admin, configuration, echo_server):
    name = unique_name("upstream")
    closed_port = free_port()  # nothing listens there
    host, port = split_host_port(echo_server)
    try:
        assert proxy_actions.create_proxy(proxy_name=name, upstream_host=LOOPBACK, upstream_port=closed_port,
                                          listen_host=LOOPBACK, configuration=configuration) is True
        listen = listen_of(admin, name)
        assert proxy_actions.modify_proxy(proxy_name=name, upstream_address=echo_server,
                                          configuration=configuration) is True
        state = admin.proxy(name)
        assert state["upstream"] == echo_server
        assert state["enabled"] is True
        assert state["listen"] == listen  # only what was given changes
        echoed, _ = round_trip(state["listen"], b"new upstream\n")
        assert echoed == b"new upstream\n"
    finally:
        admin.delete_quietly(name)
        os.environ.pop(f"{name}_PORT", None)


def test_modify_proxy_listen_address(admin, configuration, proxy, echo_server):
    old_listen = listen_of(admin, proxy)
    new_port = free_port()
    assert proxy_actions.modify_proxy(proxy_name=proxy, listen_address=f"{LOOPBACK}:{new_port}",
                                      configuration=configuration) is True
    state = admin.proxy(proxy)
    assert state["listen"] == f"{LOOPBACK}:{new_port}"
    assert state["upstream"] == echo_server
    assert state["enabled"] is True
    assert configuration[f"{proxy}_PORT"] == str(new_port)
    assert connection_refused(old_listen)
    echoed, _ = round_trip(state["listen"], b"moved\n")
    assert echoed == b"moved\n"


def test_modify_proxy_that_does_not_exist_fails(admin, configuration):
    name = unique_name("absent")
    with pytest.raises(AssertionError):  # the driver's answer to a 404
        proxy_actions.modify_proxy(proxy_name=name, enabled=False, configuration=configuration)
    assert admin.get(f"/proxies/{name}").status_code == 404


def test_disable_proxy(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    with connect(listen) as open_connection:  # an open connection is closed by the disable
        open_connection.sendall(b"before\n")
        assert recv_exactly(open_connection, 7) == b"before\n"
        assert proxy_actions.disable_proxy(proxy_name=proxy, configuration=configuration) is True
        state = admin.proxy(proxy)
        assert state["enabled"] is False
        assert state["listen"] == listen
        data, _ = recv_until_eof(open_connection, deadline_s=SOCKET_TIMEOUT_S)
        assert data == b""
    assert connection_refused(listen)


def test_enable_proxy(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert proxy_actions.disable_proxy(proxy_name=proxy, configuration=configuration) is True
    assert connection_refused(listen)
    assert proxy_actions.enable_proxy(proxy_name=proxy, configuration=configuration) is True
    state = admin.proxy(proxy)
    assert state["enabled"] is True
    assert state["listen"] == listen  # the same port is bound again
    echoed, _ = round_trip(listen, b"back\n")
    assert echoed == b"back\n"


def test_delete_proxy(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert proxy_actions.delete_proxy(proxy_name=proxy, configuration=configuration) is None
    assert admin.get(f"/proxies/{proxy}").status_code == 404
    assert proxy not in admin.get("/proxies").json()
    assert connection_refused(listen)
    # A second delete gets a 404, which the driver only logs.
    assert proxy_actions.delete_proxy(proxy_name=proxy, configuration=configuration) is None


def test_reset(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert toxic_actions.create_latency_toxic(for_proxy=proxy, toxic_name="slow", latency=50,
                                              configuration=configuration) is True
    assert proxy_actions.disable_proxy(proxy_name=proxy, configuration=configuration) is True
    assert admin.proxy(proxy)["enabled"] is False

    assert proxy_actions.reset(configuration=configuration) is True
    state = admin.proxy(proxy)
    assert state["enabled"] is True
    assert state["toxics"] == []
    assert state["listen"] == listen
    echoed, _ = round_trip(listen, b"reset\n")
    assert echoed == b"reset\n"


# --------------------------------------------------------------------------- proxy probes


def test_proxy_exist(configuration, proxy):
    assert proxy_probes.proxy_exist(proxy_name=proxy, configuration=configuration) is True
    assert proxy_probes.proxy_exist(proxy_name=unique_name("absent"), configuration=configuration) is False


def test_get_proxy_attribute(admin, configuration, proxy, echo_server):
    state = admin.proxy(proxy)
    for attribute in ("name", "listen", "upstream", "enabled", "toxics"):
        assert proxy_probes.get_proxy_attribute(proxy_name=proxy, attribute=attribute,
                                                configuration=configuration) == state[attribute]
    assert proxy_probes.get_proxy_attribute(proxy_name=proxy, attribute="upstream",
                                            configuration=configuration) == echo_server
    assert proxy_probes.get_proxy_attribute(proxy_name=unique_name("absent"), attribute="listen",
                                            configuration=configuration) is None


# --------------------------------------------------------------------------- toxic actions


def test_create_toxic_generic(admin, configuration, proxy):
    assert toxic_actions.create_toxic(for_proxy=proxy, toxic_name="rst", toxic_type="reset_peer",
                                      stream="upstream", toxicity=0.5, attributes={"timeout": 250},
                                      configuration=configuration) is True
    assert admin.toxic(proxy, "rst") == {"name": "rst", "type": "reset_peer", "stream": "upstream",
                                         "toxicity": 0.5, "attributes": {"timeout": 250}}
    assert admin.toxics(proxy) == [admin.toxic(proxy, "rst")]


def test_create_toxic_generic_defaults_null_attributes(admin, configuration, proxy):
    # The driver sends "attributes": null when none are given: the type's zero defaults apply.
    assert toxic_actions.create_toxic(for_proxy=proxy, toxic_name="lat0", toxic_type="latency",
                                      configuration=configuration) is True
    assert admin.toxic(proxy, "lat0") == {"name": "lat0", "type": "latency", "stream": "downstream",
                                          "toxicity": 1, "attributes": {"latency": 0, "jitter": 0}}


def test_create_toxic_that_exists_is_refused(admin, configuration, proxy):
    assert toxic_actions.create_toxic(for_proxy=proxy, toxic_name="dup", toxic_type="latency",
                                      attributes={"latency": 10}, configuration=configuration) is True
    before = admin.toxics(proxy)
    # The server answers 409; the driver then fails reading "name" from None.
    with pytest.raises(TypeError):
        toxic_actions.create_toxic(for_proxy=proxy, toxic_name="dup", toxic_type="latency",
                                   attributes={"latency": 99}, configuration=configuration)
    assert admin.toxics(proxy) == before


def test_create_latency_toxic_delays_traffic(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    _, baseline = round_trip(listen)
    assert toxic_actions.create_latency_toxic(for_proxy=proxy, toxic_name="latency_down", latency=300,
                                              jitter=0, configuration=configuration) is True
    assert admin.toxic(proxy, "latency_down") == {
        "name": "latency_down", "type": "latency", "stream": "downstream", "toxicity": 1,
        "attributes": {"latency": 300, "jitter": 0}}
    echoed, elapsed = round_trip(listen, b"slow\n")
    assert echoed == b"slow\n"
    assert 0.3 <= elapsed < 0.3 + 1.0, f"round trip took {elapsed:.3f} s with 300 ms latency (baseline {baseline:.3f} s)"


def test_create_bandwith_degradation_toxic_limits_rate(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert toxic_actions.create_bandwith_degradation_toxic(for_proxy=proxy, toxic_name="bw", rate=100,
                                                           configuration=configuration) is True
    assert admin.toxic(proxy, "bw") == {"name": "bw", "type": "bandwidth", "stream": "downstream",
                                        "toxicity": 1, "attributes": {"rate": 100}}
    payload = os.urandom(50_000)  # 50 KB at 100 KB/s: about 0.5 s on the way back
    echoed, elapsed = round_trip(listen, payload, deadline_s=10.0)
    assert echoed == payload
    assert 0.35 <= elapsed < 5.0, f"50,000 bytes at 100 KB/s took {elapsed:.3f} s"


def test_create_slow_connection_close_toxic(admin, configuration, proxy):
    assert toxic_actions.create_slow_connection_close_toxic(for_proxy=proxy, toxic_name="slow_close",
                                                            delay=400, configuration=configuration) is True
    assert admin.toxic(proxy, "slow_close") == {"name": "slow_close", "type": "slow_close",
                                                "stream": "downstream", "toxicity": 1,
                                                "attributes": {"delay": 400}}
    echoed, _ = round_trip(listen_of(admin, proxy), b"still flows\n")
    assert echoed == b"still flows\n"


def test_create_timeout_toxic_stops_data_and_closes(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert toxic_actions.create_timeout_toxic(for_proxy=proxy, toxic_name="timeout", timeout=500,
                                              configuration=configuration) is True
    assert admin.toxic(proxy, "timeout") == {"name": "timeout", "type": "timeout", "stream": "downstream",
                                             "toxicity": 1, "attributes": {"timeout": 500}}
    with connect(listen) as sock:
        sock.sendall(b"swallowed\n")
        data, elapsed = recv_until_eof(sock, deadline_s=5.0)
    assert data == b""
    assert 0.4 <= elapsed < 3.0, f"closed after {elapsed:.3f} s with a 500 ms timeout toxic"


def test_create_slicer_toxic(admin, configuration, proxy):
    assert toxic_actions.create_slicer_toxic(for_proxy=proxy, toxic_name="slicer", average_size=10,
                                             size_variation=5, delay=1, configuration=configuration) is True
    assert admin.toxic(proxy, "slicer") == {
        "name": "slicer", "type": "slicer", "stream": "downstream", "toxicity": 1,
        "attributes": {"average_size": 10, "size_variation": 5, "delay": 1}}
    payload = bytes(range(256)) * 4
    echoed, _ = round_trip(listen_of(admin, proxy), payload)
    assert echoed == payload  # sliced, but every byte arrives in order


def test_create_limiter_toxic_truncates(admin, configuration, proxy):
    assert toxic_actions.create_limiter_toxic(for_proxy=proxy, toxic_name="limit", bytes_limit=10,
                                              configuration=configuration) is True
    assert admin.toxic(proxy, "limit") == {"name": "limit", "type": "limit_data", "stream": "downstream",
                                           "toxicity": 1, "attributes": {"bytes": 10}}
    with connect(listen_of(admin, proxy)) as sock:
        sock.sendall(b"0123456789abcdefghij")
        data, _ = recv_until_eof(sock, deadline_s=5.0)
    assert data == b"0123456789"


def test_delete_toxic(admin, configuration, proxy):
    listen = listen_of(admin, proxy)
    assert toxic_actions.create_latency_toxic(for_proxy=proxy, toxic_name="gone", latency=300,
                                              configuration=configuration) is True
    assert [t["name"] for t in admin.toxics(proxy)] == ["gone"]
    assert toxic_actions.delete_toxic(for_proxy=proxy, toxic_name="gone", configuration=configuration) is True
    assert admin.toxics(proxy) == []
    assert admin.get(f"/proxies/{proxy}/toxics/gone").status_code == 404
    # A left-over 300 ms toxic would delay every round trip; the fastest of three ignores a loaded machine.
    fastest = min(round_trip(listen)[1] for _ in range(3))
    assert fastest < 0.25, f"fastest of 3 round trips took {fastest:.3f} s after the latency toxic was deleted"
    # Deleting it again: the server's 404 comes back as False.
    assert toxic_actions.delete_toxic(for_proxy=proxy, toxic_name="gone", configuration=configuration) is False


# --------------------------------------------------------------------------- through chaoslib


def test_actions_and_probe_through_chaoslib_activity_runner(admin, configuration, proxy):
    """The `chaos run` path: chaoslib validates the activity and calls the driver with the configuration."""
    def activity(kind: str, module: str, func: str, arguments: dict) -> dict:
        return {"type": kind, "name": func, "provider": {"type": "python", "module": module, "func": func,
                                                         "arguments": arguments}}

    assert run_activity(activity("action", "chaostoxi.toxic.actions", "create_latency_toxic",
                                 {"for_proxy": proxy, "toxic_name": "ctk_latency", "latency": 120}),
                        configuration, {}) is True
    assert admin.toxic(proxy, "ctk_latency")["attributes"] == {"latency": 120, "jitter": 0}
    assert run_activity(activity("probe", "chaostoxi.proxy.probes", "proxy_exist", {"proxy_name": proxy}),
                        configuration, {}) is True
    assert run_activity(activity("action", "chaostoxi.proxy.actions", "reset", {}), configuration, {}) is True
    assert admin.toxics(proxy) == []
