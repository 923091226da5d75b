"""free_port: ports for the simulator's web servers, clear of the kernel's ephemeral range."""

import itertools
import socket

import pytest

from lamplighter.tools import simulator


def test_free_ports_are_below_the_ephemeral_range_distinct_and_bindable():
    start = simulator._ephemeral_ports_start()
    if start - simulator.FIRST_CHOSEN_PORT < 1000:
        pytest.skip("this host's ephemeral range leaves no ports below it")
    ports = [simulator.free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    for port in ports:
        assert simulator.FIRST_CHOSEN_PORT <= port < start
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports[0]))


def test_a_port_someone_listens_on_is_skipped(monkeypatch):
    busy = simulator.free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", busy))
        taken.listen()
        simulator._handed_out.discard(busy)
        # The busy port comes up twice, then ports the real generator draws.
        real = simulator.random.randrange
        drawn = iter(lambda: real(simulator.FIRST_CHOSEN_PORT, 32768), None)
        candidates = itertools.chain([busy, busy], drawn)
        monkeypatch.setattr(simulator.random, "randrange", lambda start, end: next(candidates))
        port = simulator.free_port()
    assert port != busy
