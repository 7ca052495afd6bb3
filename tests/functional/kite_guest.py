# Drive a guest over its serial console on the emulator's stdio.
#
# The emulator (Kite, or qemu-system-x86_64 for reference) runs with its console on
# stdin/stdout (-nographic or -serial stdio).  Everything it prints is logged raw to a file
# for debugging; expect() reads incrementally until a regex matches, and run() executes one
# shell command in the guest and returns (exit status, output), delimited by markers the
# guest prints around it.  Python 3 standard library only.
#
#   g = Guest(["qemu-system-x86_64", "-accel", "tcg", ...], log_path="boot.log")
#   g.start()
#   g.expect(READY_RE, timeout=120)
#   g.shell_sync()
#   rc, out = g.run("uname -r")
#   status = g.poweroff()
#
# SPDX-License-Identifier: GPL-2.0-or-later

import argparse
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time

READY_RE = r"KITE-GUEST-READY uptime=([0-9.]+)\n"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def guest_arg_parser(description):
    """The options every Linux-guest test takes (callers add their own): the emulator, its
    accelerator and where the guest kernel and initrd are."""
    srcdir = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--emulator", default=os.environ.get("KITE_BIN",
                                                         os.path.join(srcdir, "build", "kite")))
    p.add_argument("--accel", default=os.environ.get("KITE_ACCEL", "tcg"))
    p.add_argument("--guest-dir", default=os.environ.get("KITE_GUEST_DIR",
                                                         os.path.join(srcdir, "build", "guest")))
    return p


class GuestError(Exception):
    """The guest or the emulator did not do what was expected.  The message carries the
    emulator's exit status, the tail of its stderr and the tail of the console log."""


def find_emulator(name):
    """Return an absolute path for an emulator given by path or by name on PATH, or
    None."""
    if os.sep in name:
        return os.path.abspath(name) if os.access(name, os.X_OK) else None
    return shutil.which(name)


class Guest:
    def __init__(self, argv, log_path=None, env=None, send_delay=0.0):
        """argv: the full emulator command line.  log_path: where the console transcript
        goes (a temporary file if None).  send_delay: seconds between characters sent, for
        a UART model that drops input it cannot buffer (QEMU's and a correct one apply
        back-pressure, so 0 is the default)."""
        self.argv = list(argv)
        self.env = env
        self.send_delay = send_delay
        if log_path is None:
            fd, log_path = tempfile.mkstemp(prefix="kite-console-", suffix=".log")
            os.close(fd)
        self.log_path = log_path
        self.proc = None
        self.buf = ""          # console text not yet consumed by expect()
        self.transcript = ""   # everything received, for error messages
        self.eof = False
        self.seq = 0
        self.start_time = None
        self._log = None
        self._stderr = None

    # --- process control ---------------------------------------------------------------

    def start(self):
        self._log = open(self.log_path, "wb")
        self._log.write(("# " + " ".join(self.argv) + "\n").encode())
        self._stderr = tempfile.TemporaryFile()
        self.start_time = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=self._stderr,
                                         env=self.env, start_new_session=True)
        except OSError as e:
            raise GuestError(f"cannot start {self.argv[0]}: {e}")
        os.set_blocking(self.proc.stdout.fileno(), False)
        return self

    def elapsed(self):
        return time.monotonic() - self.start_time

    def stderr_text(self):
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def describe_failure(self, what):
        """A message for GuestError: what went wrong, the emulator's state, stderr and the
        console tail."""
        parts = [what]
        if self.proc is not None and self.proc.poll() is not None:
            parts.append(f"emulator exited with status {self.proc.returncode}"
                         f" after {self.elapsed():.1f} s")
        err = self.stderr_text().strip()
        if err:
            parts.append("emulator stderr (tail):\n  " +
                         "\n  ".join(err.splitlines()[-15:]))
        tail = self.transcript[-1500:].strip()
        parts.append("console (tail):\n  " + "\n  ".join(tail.splitlines()[-25:])
                     if tail else "console: (nothing received)")
        parts.append(f"full console log: {self.log_path}")
        return "\n".join(parts)

    def _read_some(self, timeout):
        """Wait up to timeout for output; append it to buf.  Returns False at EOF."""
        if self.eof:
            return False
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        if not data:
            self.eof = True
            return False
        self._log.write(data)
        self._log.flush()
        # The tty turns \n into \r\n; QEMU and the kernel add escape sequences of their
        # own.  Keep \n only so patterns can use ^ and $ per line.
        text = data.decode(errors="replace").replace("\r\n", "\n").replace("\r", "")
        self.buf += text
        self.transcript += text
        if len(self.transcript) > 1 << 20:
            self.transcript = self.transcript[-(1 << 19):]
        return True

    @staticmethod
    def _show(pattern):
        return pattern[:-2] if pattern.endswith("\\n") else pattern

    def expect(self, pattern, timeout):
        """Read until pattern (a regex, searched with MULTILINE) matches the unconsumed
        output; consume up to the end of the match and return the match object."""
        rx = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(self.describe_failure(
                    f"timed out after {timeout} s waiting for /{self._show(pattern)}/"))
            if not self._read_some(min(left, 0.5)):
                # EOF: give the process a moment to be reaped so its status is known.
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
                m = rx.search(self.buf)
                if m:
                    self.buf = self.buf[m.end():]
                    return m
                raise GuestError(self.describe_failure(
                    f"emulator closed its console while waiting for /{self._show(pattern)}/"))

    def send(self, text):
        if self.proc.poll() is not None:
            raise GuestError(self.describe_failure(f"cannot send {text!r}: emulator is gone"))
        data = text.encode()
        try:
            if self.send_delay > 0:
                for i in range(len(data)):
                    self.proc.stdin.write(data[i:i + 1])
                    self.proc.stdin.flush()
                    time.sleep(self.send_delay)
            else:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
        except BrokenPipeError:
            raise GuestError(self.describe_failure(f"cannot send {text!r}: broken pipe"))

    def sendline(self, line):
        self.send(line + "\n")

    # --- shell commands ----------------------------------------------------------------

    def shell_sync(self, timeout=60, retry=2.0):
        """Wait until the guest shell executes commands, then turn off tty echo so output
        is exactly what commands print.  Resends the probe every `retry` seconds, since
        text typed before the shell opened the console may be lost."""
        deadline = time.monotonic() + timeout
        self.seq += 1
        tag = f"KITE-SYNC-{self.seq}"
        # printf's format contains "%s", so the echoed command never matches the output.
        probe = f"stty -echo; printf 'KITE-SYNC-%s\\n' {self.seq}"
        while True:
            self.sendline(probe)
            try:
                self.expect(re.escape(tag) + r"\n", timeout=min(retry, max(deadline - time.monotonic(), 0.1)))
                return
            except GuestError:
                if self.proc.poll() is not None or time.monotonic() >= deadline:
                    raise

    def run(self, cmd, timeout=60):
        """Run cmd in the guest shell; return (exit status, output without the trailing
        newline).  The command must not read stdin."""
        self.seq += 1
        n = self.seq
        self.sendline(f"printf 'KITE-BEGIN-%s\\n' {n}; {cmd}; "
                      f"printf 'KITE-END-%s rc=%s\\n' {n} $?")
        self.expect(rf"KITE-BEGIN-{n}\n", timeout)
        m = self.expect(rf"(?s)(.*?)KITE-END-{n} rc=(\d+)\n", timeout)
        out = m.group(1)
        if out.endswith("\n"):
            out = out[:-1]
        return int(m.group(2)), out

    def check(self, cmd, timeout=60):
        """run() that raises GuestError on a non-zero exit status."""
        rc, out = self.run(cmd, timeout)
        if rc != 0:
            raise GuestError(f"guest command {cmd!r} exited {rc}; output:\n{out}")
        return out

    def reboot(self, cmd_timeout=60, boot_timeout=120):
        """reboot -f in the guest (a system reset in the same process), then wait for the
        shell again; a kernel panic on the way is a GuestError."""
        self.sendline("reboot -f")
        self.expect(r"reboot: Restarting system", cmd_timeout)
        self.expect(READY_RE, boot_timeout)
        self.shell_sync(timeout=cmd_timeout)
        if "Kernel panic" in self.transcript:
            raise GuestError(self.describe_failure("the guest kernel panicked"))

    # --- ending ------------------------------------------------------------------------

    def wait(self, timeout):
        """Wait for the emulator to exit, logging what it prints meanwhile; return its
        exit status, or raise GuestError on timeout."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(self.describe_failure(
                    f"emulator still running {timeout} s after the guest was told to stop"))
            if not self._read_some(min(left, 0.2)):
                try:
                    self.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    pass
        while self._read_some(0):
            if self.eof:
                break
        return self.proc.returncode

    def poweroff(self, timeout=60):
        """Power the guest off with 'poweroff -f' and return the emulator's exit status.
        Raises GuestError if the kernel did not report an ACPI power-down (a panic with
        panic=-1 and -no-reboot also exits 0, so the status alone proves nothing)."""
        self.sendline("poweroff -f")
        status = self.wait(timeout)
        self.check_powered_down()
        return status

    def check_powered_down(self):
        if "Kernel panic" in self.transcript:
            raise GuestError(self.describe_failure("the guest kernel panicked"))
        if "reboot: Power down" not in self.transcript:
            raise GuestError(self.describe_failure(
                "the emulator exited without the kernel's 'reboot: Power down' message"))

    def kill(self):
        """Stop the emulator if it still runs (its own process group only)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.close()

    def close(self):
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except (OSError, BrokenPipeError):
                    pass
        if self._log is not None and not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False
