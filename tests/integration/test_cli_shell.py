"""The interactive orders-cli shell in a real pseudo-terminal: prompt,
create and list, tab completion, history across sessions, Ctrl-C at the
prompt and during watch, Ctrl-D."""
import fcntl
import os
import pty
import re
import select
import signal
import stat
import struct
import termios
import time

import pytest

from conftest import BIN_DIR, RelayServer

CLI = os.path.join(BIN_DIR, "orders-cli")
HAVE_RELAY = os.path.exists(os.path.join(BIN_DIR, "orders-relay"))
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")


class Shell:
    def __init__(self, api, relay_url, home, cols=120):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERS_")}
        env.update(HOME=str(home), TERM="xterm", ASAN_OPTIONS="detect_leaks=1:exitcode=99",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98")
        env.pop("NO_COLOR", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(str(home))
            os.execve(CLI, [CLI, "--api", api.base, "--relay", relay_url], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
        self.buf = ""
        self.status = None

    def read_until(self, pattern, timeout=15):
        """Wait until pattern (regex on the text without escape codes) shows; consume it."""
        deadline = time.time() + timeout
        while True:
            m = re.search(pattern, ANSI.sub("", self.buf))
            if m:
                text = ANSI.sub("", self.buf)
                self.buf = ""
                return text
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen:\n"
                                     f"{ANSI.sub('', self.buf)[-3000:]}")
            r, _, _ = select.select([self.fd], [], [], min(left, 0.2))
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"shell ended; screen:\n{ANSI.sub('', self.buf)}")
                self.buf += data.decode("utf-8", "replace")

    def send(self, text):
        # libedit prints the prompt a moment before it puts the terminal in
        # raw mode; keys typed in between are cooked by the tty driver (a
        # ^D there is lost). A person is never that fast: give it a moment.
        time.sleep(0.15)
        os.write(self.fd, text.encode())

    def wait(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                return self.status
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    self.buf += os.read(self.fd, 65536).decode("utf-8", "replace")
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"orders-cli shell did not exit; screen:\n{ANSI.sub('', self.buf)[-2000:]}")

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        os.close(self.fd)
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert marker not in self.buf


PROMPT = r"orders> $"


@pytest.fixture
def home(tmp_path):
    return tmp_path


def test_prompt_create_list_and_ctrl_d(api, home):
    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("create 'Pty Person' \"Pty Product\" --status shipped\r")
        out = sh.read_until(PROMPT)
        assert "created order" in out and "Pty Person" in out
        assert "\x1b[36m" in sh.buf or True  # colours are checked below
        sh.send("list --limit 5\r")
        raw_before = sh.buf
        out = sh.read_until(PROMPT)
        assert "Pty Person" in out and "CUSTOMER" in out
        sh.send("get abc\r")
        out = sh.read_until(PROMPT)
        assert "error: cannot parse order id 'abc'" in out
        sh.send("help update\r")
        out = sh.read_until(PROMPT)
        assert "usage: update ID" in out
        sh.send("\x04")  # Ctrl-D
        assert sh.wait() == 0
        del raw_before
    finally:
        sh.close()


def test_status_colour_on_terminal(api, home):
    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("create Colour Test --status delivered\r")
        sh.read_until(PROMPT)
        sh.send("list --status delivered --limit 1\r")
        deadline = time.time() + 10
        while "\x1b[32mdelivered" not in sh.buf and time.time() < deadline:
            r, _, _ = select.select([sh.fd], [], [], 0.2)
            if r:
                sh.buf += os.read(sh.fd, 65536).decode("utf-8", "replace")
        assert "\x1b[32mdelivered" in sh.buf
        sh.send("quit\r")
        assert sh.wait() == 0
    finally:
        sh.close()


def test_tab_completion(api, home):
    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("hea\t")
        sh.read_until(r"health $")
        sh.send("\r")
        out = sh.read_until(PROMPT)
        assert "database" in out
        sh.send("create Tab Complete --status deliv\t")
        sh.read_until(r"--status delivered $")
        sh.send("\r")
        out = sh.read_until(PROMPT)
        assert "status         delivered" in out
        sh.send("update 1 sta\t")
        sh.read_until(r"update 1 status=$")
        sh.send("\x15")  # Ctrl-U: clear the line
        sh.send("h\t")   # ambiguous: lists health help history
        out = sh.read_until(r"health\s+help\s+history")
        sh.send("\x15\x04")
        assert sh.wait() == 0
    finally:
        sh.close()


def test_history_persists_across_sessions(api, home):
    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("list --limit 2\r")
        sh.read_until(PROMPT)
        sh.send("help history\r")
        sh.read_until(PROMPT)
        sh.send("\x04")
        assert sh.wait() == 0
    finally:
        sh.close()
    path = home / ".orders_cli_history"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # libedit's format: a header line, then entries with strvis(3) escapes
    text = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), path.read_text())
    assert "list --limit 2" in text.splitlines()

    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("\x1b[A")  # up: the last command of the previous session
        sh.read_until(r"help history$")
        sh.send("\x1b[A")
        sh.read_until(r"list --limit 2$")
        sh.send("\r")
        out = sh.read_until(PROMPT)
        assert "CUSTOMER" in out
        sh.send("\x04")
        assert sh.wait() == 0
    finally:
        sh.close()


def test_ctrl_c_at_prompt_clears_line(api, home):
    sh = Shell(api, "ws://127.0.0.1:9", home)
    try:
        sh.read_until(PROMPT)
        sh.send("frobnicate-this")
        sh.read_until("frobnicate-this$")
        sh.send("\x03")
        sh.read_until(PROMPT)
        sh.send("health --json\r")
        out = sh.read_until(PROMPT)
        assert "frobnicate" not in out and '"database"' in out
        sh.send("\x04")
        assert sh.wait() == 0
    finally:
        sh.close()


@pytest.mark.skipif(not HAVE_RELAY, reason="orders-relay is not built yet")
def test_ctrl_c_stops_watch_and_returns_to_prompt(api, pg, home):
    relay = RelayServer(pg).start()
    sh = Shell(api, relay.ws_url, home)
    try:
        sh.read_until(PROMPT)
        sh.send("watch\r")
        sh.read_until("watching")
        sh.send("\x03")
        sh.read_until(PROMPT)
        sh.send("health --json\r")
        out = sh.read_until(PROMPT)
        assert '"database"' in out
        sh.send("\x04")
        assert sh.wait() == 0
    finally:
        sh.close()
        relay.stop()
        relay.assert_clean()
