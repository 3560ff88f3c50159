"""Resetting or dropping a client's connection whose socket another runtime owns.

granian keeps its connections in Rust; a fault rule that asks to reset or drop one (the client
must see ECONNRESET, or the connection closed with no answer) still needs that socket. It is this
process's own file descriptor, so it is found by the client's address among the process's open
sockets (only when such a fault fires, never per request), duplicated, and cut through the
duplicate, which acts on the one socket both descriptors share:

- reset: connect() to an AF_UNSPEC address, which on Linux disconnects a TCP socket with an RST
  (tcp_disconnect); the client's next read fails with ECONNRESET.
- drop: shutdown(SHUT_RDWR), a FIN with no answer before it (http.client: RemoteDisconnected).

granian then fails to write its answer to the cut socket and closes its descriptor.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import socket
import stat
import sys

_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def supported() -> bool:
    return sys.platform.startswith("linux") and os.path.isdir(_FD_DIRS[0])


def _address(host: str):
    address = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    return getattr(address, "ipv4_mapped", None) or address


def find(client: str, server_port: int) -> socket.socket | None:
    """A duplicate of the TCP socket connected to `client` ("host:port") on `server_port`, or
    None when it is gone (the client left). The caller closes it."""
    host, _, port = client.rpartition(":")
    try:
        want = (_address(host), int(port))
    except ValueError:
        return None
    fd_dir = next((d for d in _FD_DIRS if os.path.isdir(d)), None)
    if fd_dir is None:
        return None
    for name in os.listdir(fd_dir):
        try:
            fd = int(name)
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            sock = socket.socket(fileno=os.dup(fd))
        except (ValueError, OSError):
            continue  # not a number, closed meanwhile, not a socket
        try:
            if (sock.family in (socket.AF_INET, socket.AF_INET6)
                    and sock.type == socket.SOCK_STREAM
                    and sock.getsockname()[1] == server_port):
                peer = sock.getpeername()
                if (_address(peer[0]), peer[1]) == want:
                    return sock
        except OSError:
            pass  # a listening socket has no peer
        sock.close()
    return None


def cut(client: str, server_port: int, mode: str) -> bool:
    """Reset ("reset") or drop ("drop") the connection of `client`; False when it is gone."""
    sock = find(client, server_port)
    if sock is None:
        return False
    try:
        if mode == "reset":
            _disconnect(sock)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False  # the client closed it meanwhile
    finally:
        sock.close()
    return True


_libc = None


def _disconnect(sock: socket.socket) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    unspec = (ctypes.c_ubyte * 16)()  # a sockaddr whose sa_family is AF_UNSPEC (0)
    if _libc.connect(sock.fileno(), unspec, ctypes.sizeof(unspec)) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
