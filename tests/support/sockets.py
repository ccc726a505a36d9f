"""Real sockets that tell whether a TCP connection reached them, answered or not."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def listening() -> Iterator[socket.socket]:
    """A real loopback socket that takes connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(5)
        yield listener


def connections_before_a_probe(listener: socket.socket) -> int:
    """Count the TCP connections that reached ``listener`` before a probe of ours does.

    The kernel queues every completed handshake, answered or not, in the order they came:
    whatever is accepted before the probe was connected earlier.
    """
    with socket.create_connection(listener.getsockname(), timeout=5) as probe:
        count = 0
        while True:
            accepted, peer = listener.accept()
            accepted.close()
            if peer == probe.getsockname():
                return count
            count += 1
