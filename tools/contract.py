"""The contract, fuzzed: schemathesis against the local API.

The local API is tools.gateway: API Gateway's events, delivered to the
real function binaries under the Lambda Runtime Interface Emulator. Every
operation of our document is run three times, as a user, as an admin and
without a token, with every check on and the stateful links followed; then
the original service's document is run with the server-error check. Any
failure fails `make test`; the counts go into its summary.
"""

import json
import os
import secrets
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tools import gateway
from tools.standins.services import free_port, make_admin

ROOT = Path(__file__).resolve().parent.parent
SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
ORIGINAL = ROOT / "tools" / "contract" / "original-openapi.json"
CONFIG = ROOT / "tools" / "contract" / "schemathesis.toml"
# The contract's floor: fewer generated cases means a run silently covered less.
MIN_CASES = 1000


@dataclass
class Run:
    name: str
    cases: int
    failures: int
    code: int


def post(base: str, path: str, body: dict) -> dict:
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def schemathesis(name: str, schema: str, base: str, report_dir: Path, extra: list[str]) -> Run:
    report = report_dir / f"{name}.json"
    args = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", schema, "--url", base, "--no-color",
            "--generation-database", "none", "--report", "json", "--report-json-path", str(report), *extra]
    print(f"$ schemathesis ({name}) {' '.join(a if 'Bearer' not in a else 'Authorization: Bearer …' for a in args[4:])}",
          flush=True)
    code = subprocess.call(args, cwd=report_dir, stdin=subprocess.DEVNULL)
    cases, failures = counts(report)
    return Run(name, cases, failures, code)


def counts(report: Path) -> tuple[int, int]:
    """(test cases generated, unique failures) from schemathesis's JSON report."""
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return 0, 0
    cases = data.get("test_cases", {})
    return int(cases.get("generated", 0)), int(cases.get("unique_failures", 0))


def run(procs, env: dict) -> tuple[int, str]:
    """Fuzzes the local API; returns (exit code, the summary line)."""
    report_dir = ROOT / ".local" / f"contract-{os.getpid()}"
    report_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (report_dir / "functions.log").open("w")
    threading.Thread(target=gateway.serve(procs, env, port, log=log).serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    def user() -> list[str]:
        # A new account per run (a run may delete or rename its own), with a
        # password the fuzzer cannot guess and so cannot change.
        email, password = f"fuzz-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(18)
        token = post(base, "/user/register", {"userName": "Fuzz", "email": email, "password": password})["access_token"]
        return ["-H", f"Authorization: Bearer {token}"]

    def admin() -> list[str]:
        email, password = f"fuzz-admin-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(18)
        make_admin(env, email, password)
        token = post(base, "/user/login", {"email": email, "password": password})["access_token"]
        return ["-H", f"Authorization: Bearer {token}"]

    # First, as a deploy does, the migration (inside make_admin): without
    # its unique indexes the API would let duplicates in.
    as_admin = admin()
    ours = f"{base}/openapi.json"
    runs = [
        schemathesis("as-user", ours, base, report_dir, ["--checks", "all", *user()]),
        schemathesis("as-admin", ours, base, report_dir, ["--checks", "all", *as_admin]),
        schemathesis("anonymous", ours, base, report_dir, ["--checks", "all"]),
        schemathesis("original-document", str(ORIGINAL), base, report_dir, ["--checks", "not_a_server_error", *user()]),
    ]
    cases = sum(r.cases for r in runs)
    failures = sum(r.failures for r in runs)
    parts = ", ".join(f"{r.name} {r.cases}" for r in runs)
    code = 0 if all(r.code == 0 for r in runs) and failures == 0 and cases >= MIN_CASES else 1
    short = f" (fewer than {MIN_CASES}: the runs covered too little)" if cases < MIN_CASES else ""
    return code, f"contract: {cases} test cases generated ({parts}){short}, {failures} failures"
