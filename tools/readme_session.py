"""The README's curl session, run as written against the local API.

The README's "A session" block is a bash script whose answers are shown as
`# {...}` comments. This runs it with bash against the real function
binaries behind tools.gateway, on a database of its own, and checks every
answer against the comment shown for it: the same fields with the same
values, except ids, which stand for whatever this run's payment is, and
values shown cut short with `...`, which must start as shown.
"""

import json
import os
import re
import subprocess
import threading
from pathlib import Path

from tools import gateway
from tools.standins.services import free_port, make_admin

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# The example's PaymentIntent id; this run's id takes its place.
EXAMPLE_ID = re.compile(r"pi_[A-Za-z0-9]+")


def session(readme: str) -> tuple[str, list[str]]:
    """(the script, the answers it shows) from the README's session block."""
    block = re.search(r"## A session\n+```sh\n(.*?)```", readme, re.S)
    if block is None:
        raise ValueError("README.md has no ```sh block under '## A session'")
    script = block.group(1)
    shown = [line[2:] for line in script.splitlines() if line.startswith("# {") or line.startswith("# [")]
    return script, shown


def matches(shown, actual, payment_id: str) -> bool:
    """Whether `actual` is the answer `shown` stands for."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and shown.keys() == actual.keys() and all(
            matches(value, actual[key], payment_id) for key, value in shown.items())
    if isinstance(shown, list):
        return isinstance(actual, list) and len(shown) == len(actual) and all(
            matches(s, a, payment_id) for s, a in zip(shown, actual))
    if isinstance(shown, str):
        shown = EXAMPLE_ID.sub(payment_id, shown)
        if shown.endswith("..."):
            return isinstance(actual, str) and actual.startswith(shown[:-3])
    return shown == actual


def check(base: str) -> list[str]:
    """Runs the session against `base`; what did not match (empty when all did)."""
    script, shown = session(README.read_text())
    # Each curl answer on a line of its own (curl -s prints no newline).
    preamble = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; echo; }\n'
    script = re.sub(r"^API=.*$", f"API={base}", script, count=1, flags=re.M)
    run = subprocess.run(["bash", "-c", preamble + script], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        return [f"the session failed ({run.returncode}): {run.stderr[-2000:]}\n{run.stdout[-2000:]}"]
    answers = [line for line in run.stdout.splitlines() if line.strip()]
    if len(answers) != len(shown):
        return [f"the session printed {len(answers)} answers, the README shows {len(shown)}:\n{run.stdout}"]
    payment_id = next((json.loads(a).get("id") for a in answers if a.startswith('{"id"')), "pi_none")
    return [f"README shows  {s}\nthe API said {a}" for s, a in zip(shown, answers)
            if not matches(json.loads(s), json.loads(a), payment_id)]


def run(procs, env: dict) -> tuple[int, str]:
    """The session on a database of its own; returns (exit code, summary line)."""
    env = {**env, "MONGODB_DATABASE": f"readme_{os.getpid()}"}
    make_admin(env, "readme-admin@example.com", "readme-admin-password")  # the deploy's indexes, and an admin
    port = free_port()
    log_dir = ROOT / ".local" / f"readme-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / "functions.log").open("w")
    threading.Thread(target=gateway.serve(procs, env, port, log=log).serve_forever, daemon=True).start()
    problems = check(f"http://127.0.0.1:{port}")
    for problem in problems:
        print(problem, flush=True)
    if problems:
        return 1, f"README session: {len(problems)} answer(s) differ from what the README shows"
    return 0, "README session: every answer as the README shows it"
