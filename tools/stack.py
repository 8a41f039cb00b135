#!/usr/bin/env python3
"""The entry point of `make test`, `make services` and `make serve`.

    python -m tools.stack test      CI: lint, build, start the stand-ins in memory,
                                    run every test, the README's session, the bounded
                                    chaos run and the contract's fuzzing, then package
    python -m tools.stack lint|build|contract|package   one of those steps
    python -m tools.stack services  start the stand-ins and print the environment for `cargo test`
    python -m tools.stack serve     start them with persistent data and serve the API

Run from the repository's root. Imports go one way (tools/__init__.py, checked
by tools.layers in `lint`): tools.standins (the stand-ins) <- tools.gateway
(the local API Gateway) <- tools.contract, tools.readme_session <- this module.
"""

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tools import contract, gateway, layers, readme_session
from tools.standins import services
from tools.standins.services import BIN, LOCAL, ROOT, Processes, cargo, make_admin


def sam(args: list[str]) -> int:
    print(f"$ sam {' '.join(args)}", flush=True)
    # Offline: a region for the linter, no telemetry, no credentials needed.
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"), "SAM_CLI_TELEMETRY": "0"}
    return subprocess.call([str(BIN / "sam"), *args], cwd=ROOT, env=env)


def lint() -> int:
    """tools/' one direction of imports, the template as SAM and cfn-lint
    read it, and the code as rustfmt writes it."""
    print("$ python -m tools.layers", flush=True)
    return layers.main() or sam(["validate", "--lint"]) or cargo(["fmt", "--all", "--check"], {})


def build(env: dict[str, str]) -> int:
    """The debug binaries the emulator tests, the README session and the chaos run drive."""
    return cargo(["build", "--workspace", "--bins"], env)


def python_tests() -> int:
    """The stand-ins' own rules, each on a stand-in of its own, and stopping
    `make serve` under every signal."""
    for module in ["tools.standins.test_localstripe_rules", "tools.standins.test_nx27017_rules",
                   "tools.test_stack_stop"]:
        print(f"$ python -m {module}", flush=True)
        code = subprocess.call([str(BIN / "python"), "-m", module], cwd=ROOT, stdin=subprocess.DEVNULL)
        if code != 0:
            return code
    return 0


def run_tests(procs: Processes, env: dict[str, str]) -> int:
    """CI's steps in order, stopping at the first that fails: lint, build,
    test (the stand-ins' rules, cargo test, the README's session, the bounded
    chaos run), contract, package. `make lint|build|contract|package` run one."""
    code = lint() or build(env) or python_tests()
    passed = failed = 0
    if code == 0:
        code, passed, failed = cargo_test(env)
    readme_line = "README session: not run (the tests above failed)"
    if code == 0:
        code, readme_line = readme_session.run(procs, env)
    chaos_line = "chaos: not run (the tests above failed)"
    if code == 0:
        code, chaos_line = bounded_chaos()
    contract_line = "contract: not run (the tests above failed)"
    if code == 0:
        code, contract_line = contract.run(procs, env)
    if code == 0 and os.environ.get("SKIP_SAM_BUILD") != "1":
        code = sam_build()
    # The closing lines for the whole run, whatever printed last.
    print(f"tests: {passed} passed, {failed} failed", flush=True)
    print(readme_line, flush=True)
    print(chaos_line, flush=True)
    print(contract_line, flush=True)
    return code


# The bounded chaos run of `make test`: fixed seeds, on the debug binaries
# just built (`make chaos` runs the release ones, 500 operations a seed).
CHAOS_SEEDS, CHAOS_OPERATIONS = "1,2,3", "150"


def bounded_chaos() -> tuple[int, str]:
    """tools.chaos on the fixed seeds, each on stand-ins of its own. A
    stop signal is passed on, and the run given time to stop its own
    stand-ins."""
    settings = {"CHAOS_SEEDS": CHAOS_SEEDS, "CHAOS_OPERATIONS": CHAOS_OPERATIONS, "CHAOS_PROFILE": "debug"}
    print(f"$ {' '.join(f'{k}={v}' for k, v in settings.items())} python -m tools.chaos", flush=True)
    chaos = subprocess.Popen([str(BIN / "python"), "-m", "tools.chaos"], cwd=ROOT,
                             env={**os.environ, **settings}, stdin=subprocess.DEVNULL)
    try:
        code = chaos.wait()
    except services.Stopped:
        chaos.terminate()
        try:
            chaos.wait(timeout=30)
        except subprocess.TimeoutExpired:
            chaos.kill()
        raise
    held = "every invariant held" if code == 0 else "an invariant broke (its report is above)"
    return code, f"chaos: seeds {CHAOS_SEEDS}, {CHAOS_OPERATIONS} operations each: {held}"


def cargo_test(env: dict[str, str]) -> tuple[int, int, int]:
    """`cargo test --workspace`, streamed, with its per-binary results summed."""
    args = ["test", "--workspace", "--no-fail-fast"]
    print(f"$ cargo {' '.join(args)}", flush=True)
    proc = subprocess.Popen(["cargo", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    passed = failed = 0
    for line in proc.stdout:
        print(line, end="", flush=True)
        result = re.match(r"test result: \w+\. (\d+) passed; (\d+) failed", line)
        if result:
            passed += int(result.group(1))
            failed += int(result.group(2))
    return proc.wait(), passed, failed


def sam_build() -> int:
    """What `sam build` packages: arm64 where the target installs, else x86_64.

    One `cargo lambda build` of every binary first, with the flags sam uses
    (so the same features), builds the dependencies once on every core; sam,
    which builds one function at a time, then finds each binary fresh and
    packages it."""
    arm = subprocess.call(["rustup", "target", "add", "aarch64-unknown-linux-gnu"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0
    architecture = "arm64" if arm else "x86_64"
    print(f"sam build for {architecture}" + ("" if arm else " (rustup could not add aarch64-unknown-linux-gnu)"), flush=True)
    os.environ["PATH"] = f"{BIN}:{os.environ['PATH']}"  # cargo-lambda and zig come from the virtualenv
    code = cargo(["lambda", "build", "--release", *(["--arm64"] if arm else []), "--bins"], {})
    return code or sam(["build", "--parameter-overrides", f"Architecture={architecture}"])


def seed_admin(env: dict[str, str]) -> tuple[str, str]:
    """Indexes plus one admin, whose password is kept in .local across runs."""
    creds_file = LOCAL / "admin.json"
    if creds_file.exists():
        creds = json.loads(creds_file.read_text())
    else:
        creds = {"email": "admin@example.com", "password": secrets.token_urlsafe(12)}
        creds_file.write_text(json.dumps(creds))
        creds_file.chmod(0o600)
    make_admin(env, creds["email"], creds["password"])
    return creds["email"], creds["password"]


def serve(procs: Processes, env: dict[str, str]) -> int:
    """The whole API at API_PORT, until Ctrl-C. The build comes first, with
    cargo's progress on screen: the first one takes minutes."""
    if cargo(["build", "--workspace", "--bins"], env) != 0:
        return 1
    email, password = seed_admin(env)
    port = int(os.environ.get("API_PORT", "9000"))
    threading.Thread(target=gateway.serve(procs, env, port).serve_forever, daemon=True).start()
    print(f"\nThe API is at http://127.0.0.1:{port} (the contract: /openapi.json).")
    print(f"Admin: {email} / {password}")
    print("Ctrl-C stops everything.\n", flush=True)
    while procs.all_alive():
        time.sleep(1)
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["test", "services", "serve", "lint", "build", "contract", "package"])
    mode = parser.parse_args().mode
    services.stop_on_signals()
    if mode == "lint":
        return lint()
    if mode == "build":
        return build({})
    if mode == "package":
        return sam_build()
    try:
        with Processes() as procs:
            env = services.start_services(procs, persistent=mode == "serve").env
            if mode == "test":
                return run_tests(procs, env)
            if mode == "contract":
                code = build(env) or contract.run(procs, env)[0]
                return code
            if mode == "serve":
                return serve(procs, env)
            print("\nLocal services are up. In another shell:\n")
            for key, value in env.items():
                print(f"export {key}={value}")
            print("\nCtrl-C stops them.", flush=True)
            while procs.all_alive():
                time.sleep(1)
            return 1
    except services.Stopped as stopped:
        # Ctrl-C is how a user stops `make serve` and `make services`.
        return 0 if stopped.code == 128 + signal.SIGINT else stopped.code


if __name__ == "__main__":
    sys.exit(main())
