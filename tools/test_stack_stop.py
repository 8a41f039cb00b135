#!/usr/bin/env python3
"""Stopping `make serve` leaves nothing behind, whatever signal arrives.

Runs `python -m tools.stack serve` as `make serve` does (a process group of its
own, a data directory of its own here), waits until the API answers and
function containers run, then:

1. SIGTERM to the whole group, a second SIGTERM and a SIGINT while it is
   stopping: every process it started, the functions' binaries under the
   emulator included, is gone, and the API's port is free;
2. SIGHUP (the terminal closed): the same;
3. SIGKILL, which no process can catch: what it left is stopped by the next
   run (services.stop_leftovers, which every run calls first).

Needs the debug binaries (`cargo build --workspace --bins`).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tools.standins import services
from tools.standins.checks import check


def answers(url: str, data: bytes | None = None) -> bool:
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # an answer, if not a 2xx
    except OSError:
        return False


def started(local: Path) -> tuple[subprocess.Popen, int]:
    """`tools.stack serve` up, with the API answering and containers running."""
    port = services.free_port()
    env = {**os.environ, "API_PORT": str(port), "PAYMENTS_LOCAL_DIR": str(local)}
    serve = subprocess.Popen([sys.executable, "-m", "tools.stack", "serve"], cwd=services.ROOT, env=env,
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while not answers(f"{base}/openapi.json"):
        if serve.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"tools.stack serve did not serve the API (exit {serve.poll()}); logs in {local}")
        time.sleep(0.5)
    answers(f"{base}/config")
    answers(f"{base}/user/login", b'{"email": "nobody@example.com", "password": "not-a-password"}')
    return serve, port


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if services.is_running(pid)]


def stopped_by(local: Path, signals: list[int]) -> bool:
    serve, port = started(local)
    tree = services.descendants([serve.pid])
    names = "+".join(signal.Signals(s).name for s in signals)
    for signum in signals:
        try:
            os.killpg(serve.pid, signum)
        except ProcessLookupError:
            pass
        time.sleep(0.3)
    try:
        serve.wait(timeout=60)
    except subprocess.TimeoutExpired:
        serve.kill()
        return check(f"{names}: make serve stops", False, "still running after 60 s")
    left = alive(tree)
    ok = check(f"{names}: all {len(tree)} processes it started are gone", not left, f"left running: {left}")
    return check(f"{names}: the API's port is free", not answers(f"http://127.0.0.1:{port}/openapi.json")) and ok


def killed_then_next_run(local: Path) -> bool:
    serve, _ = started(local)
    tree = services.descendants([serve.pid])
    os.killpg(serve.pid, signal.SIGKILL)
    serve.wait()
    ok = check("SIGKILL: leaves processes behind (nothing can catch it)", bool(alive(tree)))
    os.environ["PAYMENTS_LOCAL_DIR"] = str(local)
    subprocess.run([sys.executable, "-c", "from tools.standins import services; services.stop_leftovers()"],
                   cwd=services.ROOT, check=True)
    left = alive(tree)
    return check("SIGKILL: the next run stops what it left", not left, f"left running: {left}") and ok


def main() -> int:
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stack-stop-") as local:
        results = [
            stopped_by(Path(local) / "term", [signal.SIGTERM, signal.SIGTERM, signal.SIGINT]),
            stopped_by(Path(local) / "hup", [signal.SIGHUP]),
            killed_then_next_run(Path(local) / "kill"),
        ]
    print(f"stopping make serve: {sum(results)} of {len(results)} held ({time.monotonic() - started_at:.0f} s)")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
