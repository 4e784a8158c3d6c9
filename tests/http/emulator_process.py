"""The real understudy binary as a child process, for the socket-level test scripts.

Emulator starts it on a free port (or the listen address given), waits for its ready line and
keeps its stdout lines (the request log) as they come; stop() sends SIGTERM and says how long
the exit took. A sanitizer report on stderr counts as a failure of the script. check() prints
one ok/FAIL line per expectation and remembers the failures."""
import re
import signal
import subprocess
import sys
import threading
import time

READY = re.compile(r"understudy ready on (http://(\[[^\]]+\]|[^:\s]+):(\d+))")
FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def finish():
    """Exits 1 when any check failed, after saying how many."""
    if FAILURES:
        print("%d failures" % len(FAILURES))
        sys.exit(1)
    print("ok")


class Emulator:
    def __init__(self, emulator, extra, listen="127.0.0.1:0", log="off"):
        self.proc = subprocess.Popen([emulator, "--listen", listen, "--log", log] + extra,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.url = None
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            m = READY.search(line or "")
            if m:
                self.url = m.group(1)
                self.host, self.port = m.group(2).strip("[]"), int(m.group(3))
                break
            if not line and self.proc.poll() is not None:
                break
        if self.url is None:
            self.proc.kill()
            sys.exit("server did not start: " + self.proc.stderr.read())
        self.pid = self.proc.pid
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self, within_s=30):
        """SIGTERM; returns (exit code, seconds it took), -1 when it had to be killed."""
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=within_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1, time.time() - t0
        err = self.proc.stderr.read()
        if "Sanitizer" in err or "runtime error" in err:
            FAILURES.append("sanitizer report: " + err[-1500:])
        return self.proc.returncode, time.time() - t0
