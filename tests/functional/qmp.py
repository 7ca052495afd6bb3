# SPDX-License-Identifier: GPL-2.0-or-later
"""A small QMP client for the functional tests (one JSON object per line on a unix socket).

The tests that speak QMP share this one client instead of each carrying a copy:

    q = QMP(path)                       # connect (retrying until Kite listens), negotiate
    q.cmd("set_link", name="n0", up=False)        # -> the reply dict ({"return": ...})
    q.cmd("qom-get", {"path": "/machine", "property": "usb"})
    q.command("cont")                   # -> the "return" value, QMPError on an error reply
    q.wait_event("STOP")

Events that arrive while waiting for a reply are kept in q.events (the whole event
objects) for wait_event().  test_qmp.py, which checks the protocol itself, passes
negotiate=False and drives the greeting and raw bytes with recv_line()/send_raw()/reply().
"""

import json
import socket
import time


class QMPError(Exception):
    """A command answered with an error reply (the reply is in .reply)."""

    def __init__(self, name, reply):
        super().__init__("QMP %s: %s" % (name, reply.get("error", reply)))
        self.reply = reply


class QMP:
    def __init__(self, path, timeout=30, connect_timeout=30, negotiate=True):
        """Connect to the QMP socket at path.  Kite creates the socket shortly after it
        starts, so connecting is retried for connect_timeout seconds (0: one try).
        timeout is the socket timeout for every later read.  With negotiate, the greeting
        is read (kept in .greeting) and qmp_capabilities is sent."""
        deadline = time.monotonic() + connect_timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX)
            try:
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        self.greeting = None
        if negotiate:
            self.greeting = self.recv_line()
            self.command("qmp_capabilities")

    def recv_raw_line(self):
        """The next message's bytes as sent, event or not, its line end included."""
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def recv_line(self):
        """The next message, event or not."""
        return json.loads(self.recv_raw_line())

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next message that is not an event; events go to self.events."""
        while True:
            msg = self.recv_line()
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def request(self, req):
        """Send one request object as it is (e.g. with "id" or "exec-oob"); the reply."""
        self.send_raw(json.dumps(req).encode())
        return self.reply()

    def cmd(self, name, args=None, /, **kwargs):
        """Run command name with arguments from the dict args and/or keywords (any
        argument name, "name" too); the reply dict, error or not.  "arguments" is left
        out when there are none."""
        req = {"execute": name}
        if args is not None or kwargs:
            req["arguments"] = {**(args or {}), **kwargs}
        return self.request(req)

    def command(self, name, args=None, /, **kwargs):
        """Like cmd(), but the return value; an error reply raises QMPError."""
        r = self.cmd(name, args, **kwargs)
        if "return" not in r:
            raise QMPError(name, r)
        return r["return"]

    def wait_event(self, name):
        """The first event called name (already received or the next to come), removed
        from self.events.  The socket timeout bounds the wait."""
        while True:
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            self.events.append(self.recv_line())

    def closed(self):
        """True when the other end closed the connection (reads until EOF or timeout)."""
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
