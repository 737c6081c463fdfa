"""Compatibility tests: the third-party `toxiproxy-python` client (PyPI) drives our server.

The library is used unchanged. Where it has no call for an API route (it cannot update a
toxic), the test goes through the library's own `APIConsumer`, which is how a user of the
library would do it.

Every network target is 127.0.0.1. Every wait is a bounded poll with a deadline.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

import pytest

from compat_support import (
    LOOPBACK,
    POLL_INTERVAL_S,
    SOCKET_TIMEOUT_S,
    free_port,
    split_host_port,
    recv_exactly,
    connect,
)

# Make sure no HTTP proxy from the environment sits between `requests` (used by the
# library) and our loopback server. Set before anything issues a request.
for _variable in ("NO_PROXY", "no_proxy"):
    os.environ[_variable] = "127.0.0.1,localhost"

import toxiproxy  # noqa: E402
from toxiproxy import Proxy, Toxiproxy  # noqa: E402
from toxiproxy.api import APIConsumer  # noqa: E402
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists  # noqa: E402
from toxiproxy.toxic import Toxic  # noqa: E402


# --------------------------------------------------------------------------- helpers


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(condition, *, timeout: float, interval: float = POLL_INTERVAL_S, what: str):
    """Poll `condition` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = condition()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def round_trip(address: str, payload: bytes = b"ping\n") -> tuple[bytes, float]:
    """Fresh connection; time from sending `payload` until all of it has come back."""
    with connect(address) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        echoed = recv_exactly(sock, len(payload))
        elapsed = time.monotonic() - started
    return echoed, elapsed


def connection_rejected(address: str) -> bool:
    """True if a new connection is refused, or accepted and then closed without data."""
    host, port = split_host_port(address)
    try:
        sock = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S)
    except ConnectionRefusedError:
        return True
    with sock:
        sock.settimeout(2.0)
        try:
            sock.sendall(b"hello?\n")
            data = sock.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False  # open and silent: not rejected
        return data == b""


def server_proxy(toxi: Toxiproxy, name: str) -> Proxy:
    proxies = toxi.proxies()
    assert name in proxies, f"proxy {name!r} not listed; listed: {sorted(proxies)}"
    return proxies[name]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture()
def toxi(toxiproxy_server) -> Toxiproxy:
    client = Toxiproxy()
    client.update_api_consumer(toxiproxy_server["host"], toxiproxy_server["port"])
    return client


@pytest.fixture()
def proxy(toxi, echo_server):
    """A fresh proxy (listen 127.0.0.1:0) to the echo server, deleted afterwards if still there."""
    created = toxi.create(upstream=echo_server, name=unique_name("echo"))
    yield created
    try:
        created.destroy()
    except NotFound:
        pass


# --------------------------------------------------------------------------- tests


def test_library_version_under_test():
    from importlib.metadata import version

    assert version("toxiproxy-python") == "0.1.1"
    assert toxiproxy.Toxiproxy is Toxiproxy


def test_running_and_version(toxi):
    assert toxi.running() is True
    body = toxi.version()
    assert isinstance(body, bytes)
    assert json.loads(body) == {"version": "2.12.0"}


def test_create_and_list_proxy(toxi, echo_server):
    name = unique_name("create")
    created = toxi.create(upstream=echo_server, name=name)
    try:
        assert isinstance(created, Proxy)
        assert created.name == name
        assert created.upstream == echo_server
        assert created.enabled is True
        host, port = split_host_port(created.listen)
        assert host == LOOPBACK
        assert port != 0, "listen must report the real bound port, not :0"

        listed = server_proxy(toxi, name)
        assert listed.name == name
        assert listed.upstream == echo_server
        assert listed.enabled is True
        assert listed.listen == created.listen

        fetched = toxi.get_proxy(name)
        assert fetched is not None and fetched.listen == created.listen
        assert toxi.get_proxy(unique_name("absent")) is None
        assert created.toxics() == {}
    finally:
        created.destroy()


def test_create_with_explicit_listen_and_disabled(toxi, echo_server):
    name = unique_name("explicit")
    port = free_port()
    created = toxi.create(upstream=echo_server, name=name, listen=f"{LOOPBACK}:{port}", enabled=False)
    try:
        assert created.enabled is False
        assert created.listen == f"{LOOPBACK}:{port}"
        assert server_proxy(toxi, name).enabled is False
        assert connection_rejected(created.listen)

        created.enable()
        assert created.enabled is True
        listed = server_proxy(toxi, name)
        assert listed.enabled is True
        assert listed.listen == f"{LOOPBACK}:{port}"
        echoed, _ = round_trip(listed.listen, b"explicit\n")
        assert echoed == b"explicit\n"
    finally:
        created.destroy()


def test_duplicate_proxy_raises_proxy_exists(toxi, proxy, echo_server):
    # The library checks the list first ...
    with pytest.raises(ProxyExists):
        toxi.create(upstream=echo_server, name=proxy.name)
    # ... and maps the server's own 409 to the same exception.
    with pytest.raises(ProxyExists) as raised:
        APIConsumer.post("/proxies", json={"name": proxy.name, "upstream": echo_server,
                                           "listen": f"{LOOPBACK}:0"})
    body = json.loads(raised.value.args[0])
    assert body == {"error": "proxy already exists", "status": 409}


def test_traffic_is_echoed_intact(proxy):
    echoed, _ = round_trip(proxy.listen, b"hello through toxiproxy\n")
    assert echoed == b"hello through toxiproxy\n"

    payload = os.urandom(256 * 1024)
    with connect(proxy.listen) as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,), daemon=True)
        sender.start()
        echoed = recv_exactly(sock, len(payload), deadline_s=20.0)
        sender.join(timeout=5)
    assert echoed == payload


def test_latency_toxic_add_list_update_remove(proxy):
    baseline_echo, _ = round_trip(proxy.listen)
    assert baseline_echo == b"ping\n"

    assert proxy.add_toxic(type="latency", attributes={"latency": 200}) is None
    toxics = proxy.toxics()
    assert list(toxics) == ["latency_downstream"]
    toxic = toxics["latency_downstream"]
    assert isinstance(toxic, Toxic)
    assert toxic.type == "latency"
    assert toxic.stream == "downstream"
    assert toxic.toxicity == 1
    assert toxic.attributes == {"latency": 200, "jitter": 0}

    echoed, elapsed = round_trip(proxy.listen)
    assert echoed == b"ping\n"
    assert 0.200 <= elapsed < 2.0, f"round trip with 200 ms latency took {elapsed:.3f} s"

    # toxiproxy-python 0.1.1 has no update call; use its APIConsumer (POST, as the library does
    # for proxy updates; the Go client uses PATCH).
    response = APIConsumer.post(f"/proxies/{proxy.name}/toxics/latency_downstream",
                                json={"attributes": {"latency": 50}})
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "latency_downstream"
    assert updated["attributes"] == {"latency": 50, "jitter": 0}
    reported = proxy.get_toxic("latency_downstream")
    assert reported is not None
    assert reported.attributes == {"latency": 50, "jitter": 0}
    assert reported.type == "latency" and reported.stream == "downstream"

    echoed, elapsed = round_trip(proxy.listen)
    assert echoed == b"ping\n"
    assert 0.050 <= elapsed < 0.200, f"round trip with 50 ms latency took {elapsed:.3f} s"

    assert proxy.destroy_toxic("latency_downstream") is True
    assert proxy.toxics() == {}
    assert proxy.get_toxic("latency_downstream") is None

    echoed, elapsed = round_trip(proxy.listen)
    assert echoed == b"ping\n"
    assert elapsed < 0.150, f"round trip without toxics took {elapsed:.3f} s"

    with pytest.raises(NotFound) as raised:
        proxy.destroy_toxic("latency_downstream")
    assert json.loads(raised.value.args[0]) == {"error": "toxic not found", "status": 404}


def test_toxic_listing_with_several_toxics(proxy):
    proxy.add_toxic(type="latency", stream="upstream", name="slow_up", toxicity=0.5,
                    attributes={"latency": 10, "jitter": 2})
    proxy.add_toxic(type="timeout", attributes={"timeout": 60000})
    proxy.add_toxic(type="noop", name="nothing")

    toxics = proxy.toxics()
    assert set(toxics) == {"slow_up", "timeout_downstream", "nothing"}
    assert toxics["slow_up"].type == "latency"
    assert toxics["slow_up"].stream == "upstream"
    assert toxics["slow_up"].toxicity == 0.5
    assert toxics["slow_up"].attributes == {"latency": 10, "jitter": 2}
    assert toxics["timeout_downstream"].type == "timeout"
    assert toxics["timeout_downstream"].stream == "downstream"
    assert toxics["timeout_downstream"].toxicity == 1
    assert toxics["timeout_downstream"].attributes == {"timeout": 60000}
    assert toxics["nothing"].type == "noop"
    assert toxics["nothing"].attributes == {}

    # The proxy object carries the same toxics: upstream ones first, then downstream, each in
    # creation order.
    raw = APIConsumer.get(f"/proxies/{proxy.name}").json()
    assert [t["name"] for t in raw["toxics"]] == ["slow_up", "timeout_downstream", "nothing"]

    for name in ("nothing", "slow_up"):
        assert proxy.destroy_toxic(name) is True
    assert list(proxy.toxics()) == ["timeout_downstream"]


# Every toxic type of the reference server, created through the library with some attributes set:
# the listing must report all of the type's attributes, unset ones as 0.
_IMPLEMENTED_TOXICS = [
    ("latency", {"latency": 5}, {"latency": 5, "jitter": 0}),
    ("timeout", {"timeout": 60000}, {"timeout": 60000}),
    ("noop", {}, {}),
    ("bandwidth", {"rate": 1000}, {"rate": 1000}),
    ("slow_close", {"delay": 10}, {"delay": 10}),
    ("reset_peer", {"timeout": 10}, {"timeout": 10}),
    ("slicer", {"average_size": 10, "size_variation": 2},
     {"average_size": 10, "size_variation": 2, "delay": 0}),
    ("limit_data", {"bytes": 1024}, {"bytes": 1024}),
]


@pytest.mark.parametrize(
    "toxic_type, attributes, expected",
    [pytest.param(*case, id=case[0]) for case in _IMPLEMENTED_TOXICS],
)
def test_reference_toxic_types_are_accepted(proxy, toxic_type, attributes, expected):
    proxy.add_toxic(type=toxic_type, stream="upstream", attributes=attributes)
    name = f"{toxic_type}_upstream"
    listed = proxy.get_toxic(name)
    assert listed is not None, f"{name} not in {list(proxy.toxics())}"
    assert listed.type == toxic_type
    assert listed.stream == "upstream"
    assert listed.toxicity == 1
    assert listed.attributes == expected
    assert proxy.destroy_toxic(name) is True
    assert proxy.toxics() == {}


def test_toxic_error_paths(proxy):
    with pytest.raises(InvalidToxic) as raised:
        proxy.add_toxic(type="no_such_toxic")
    assert json.loads(raised.value.args[0]) == {"error": "invalid toxic type", "status": 400}

    with pytest.raises(InvalidToxic) as raised:
        proxy.add_toxic(type="latency", stream="sideways")
    assert json.loads(raised.value.args[0]) == {
        "error": "stream was invalid, can be either upstream or downstream", "status": 400}

    proxy.add_toxic(type="latency", attributes={"latency": 1})
    # The library maps every 409, including "toxic already exists", to ProxyExists.
    with pytest.raises(ProxyExists) as raised:
        proxy.add_toxic(type="latency", attributes={"latency": 2})
    assert json.loads(raised.value.args[0]) == {"error": "toxic already exists", "status": 409}
    assert proxy.get_toxic("latency_downstream").attributes["latency"] == 1


def test_missing_proxy_raises_not_found(toxi, echo_server):
    ghost = Proxy(name=unique_name("ghost"), upstream=echo_server, enabled=True,
                  listen=f"{LOOPBACK}:1")
    expected = {"error": "proxy not found", "status": 404}

    with pytest.raises(NotFound) as raised:
        ghost.toxics()
    assert json.loads(raised.value.args[0]) == expected

    with pytest.raises(NotFound) as raised:
        ghost.add_toxic(type="latency", attributes={"latency": 100})
    assert json.loads(raised.value.args[0]) == expected

    with pytest.raises(NotFound) as raised:
        ghost.disable()
    assert json.loads(raised.value.args[0]) == expected
    assert ghost.enabled is True, "library must not change its state when the call failed"

    with pytest.raises(NotFound) as raised:
        ghost.destroy()
    assert json.loads(raised.value.args[0]) == expected

    assert toxi.get_proxy(ghost.name) is None


def test_disable_and_enable(toxi, proxy):
    listen = proxy.listen
    echoed, _ = round_trip(listen)
    assert echoed == b"ping\n"

    open_before = connect(listen)
    try:
        open_before.sendall(b"before\n")
        assert recv_exactly(open_before, len(b"before\n")) == b"before\n"

        assert proxy.disable() is None
        assert proxy.enabled is False
        listed = server_proxy(toxi, proxy.name)
        assert listed.enabled is False

        assert connection_rejected(listen), "a new connection to a disabled proxy must fail"

        # The connection that was open when the proxy was disabled is closed by the server.
        def closed() -> bool:
            open_before.settimeout(0.2)
            try:
                return open_before.recv(64) == b""
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True

        wait_until(closed, timeout=5.0, interval=0.0, what="existing connection to be closed on disable")
    finally:
        open_before.close()

    assert proxy.enable() is None
    assert proxy.enabled is True
    listed = server_proxy(toxi, proxy.name)
    assert listed.enabled is True
    assert listed.listen == listen, "re-enabling must re-bind the same address"
    echoed, _ = round_trip(listen, b"back again\n")
    assert echoed == b"back again\n"


def test_down_context_manager(toxi, proxy):
    with proxy.down() as downed:
        assert downed is proxy
        assert proxy.enabled is False
        assert server_proxy(toxi, proxy.name).enabled is False
        assert connection_rejected(proxy.listen)
    assert proxy.enabled is True
    assert server_proxy(toxi, proxy.name).enabled is True
    echoed, _ = round_trip(proxy.listen)
    assert echoed == b"ping\n"


def test_toxics_survive_disable_and_reset_clears_them(toxi, proxy):
    proxy.add_toxic(type="latency", attributes={"latency": 300})
    proxy.disable()
    assert set(proxy.toxics()) == {"latency_downstream"}

    assert toxi.reset() is True
    listed = server_proxy(toxi, proxy.name)
    assert listed.enabled is True
    assert proxy.toxics() == {}
    echoed, elapsed = round_trip(proxy.listen)
    assert echoed == b"ping\n"
    assert elapsed < 0.150, f"round trip after reset took {elapsed:.3f} s"


def test_delete_proxy(toxi, echo_server):
    name = unique_name("delete")
    created = toxi.create(upstream=echo_server, name=name)
    assert name in toxi.proxies()

    assert toxi.destroy(created) is True
    assert name not in toxi.proxies()
    assert toxi.get_proxy(name) is None
    assert connection_rejected(created.listen)

    with pytest.raises(NotFound):
        created.destroy()
    assert toxi.destroy("not a Proxy object") is False


def test_populate(toxi, echo_server):
    name = unique_name("populate")
    listen = f"{LOOPBACK}:{free_port()}"
    try:
        populated = toxi.populate([{"name": name, "upstream": echo_server, "listen": listen}])
        assert [p.name for p in populated] == [name]
        assert populated[0].listen == listen
        assert server_proxy(toxi, name).upstream == echo_server

        # Same definition again: the library keeps the existing proxy and creates nothing.
        assert toxi.populate([{"name": name, "upstream": echo_server, "listen": listen}]) == []
        echoed, _ = round_trip(listen)
        assert echoed == b"ping\n"
    finally:
        leftover = toxi.get_proxy(name)
        if leftover is not None:
            assert leftover.destroy() is True
    assert toxi.get_proxy(name) is None


def test_destroy_all(toxi, echo_server):
    names = [unique_name("all") for _ in range(3)]
    for name in names:
        toxi.create(upstream=echo_server, name=name)
    assert set(names) <= set(toxi.proxies())

    toxi.destroy_all()
    assert toxi.proxies() == {}
