"""A local API Gateway (HTTP API, payload format 2.0) in front of the real
function binaries, for `make serve` and the contract tests.

Routes come from template.yaml, the one list of them. Each function
runs as its real binary under AWS's Lambda Runtime Interface Emulator,
started on its first request and kept warm, one invocation at a time as in a
Lambda container. Requests become the events API Gateway sends; a body that
is not UTF-8 is base64-encoded with `isBase64Encoded`, as API Gateway does,
so the local API answers it as the deployed one does. Browsers on any
origin get the deployed API's CORS answers (the template's
CorsConfiguration, with every origin allowed).

For tools.chaos, `serve` can also run up to `concurrency` containers per
function (a request finding them all busy waits for one, as at Lambda's
reserved concurrency), with the functions' `timeout`; the server's
`functions` attribute holds the running containers, whose `kill()` is a
container dying mid-invocation. A container found dead is replaced on the
next request, and a request queued on it goes to another.

    .venv/bin/python -m tools.gateway --port 9000   (with the environment `make services` prints)
    .venv/bin/python -m tools.gateway --routes      the routes it serves, one `function<TAB>route key` a line
"""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tools.standins import services


DEFAULT_ROUTE = "$default"


def routes(template: Path = services.ROOT / "template.yaml") -> tuple[list[tuple[str, re.Pattern, str, str]], str | None]:
    """(method, path pattern, route key, function) from the template's
    HttpApi events, the most specific first: API Gateway prefers a path
    without parameters; and the function of the $default route, which takes
    every request no other route does. The template is the one list of
    routes; this reads the lines SAM's own layout gives each function
    (`Binary:` in its Metadata, then `Method:` and `Path:`)."""
    found, fallback = [], None
    binary = method = None
    for line in template.read_text().splitlines():
        line = line.strip()
        if line.startswith("Binary: "):
            binary = line.removeprefix("Binary: ")
        elif line.startswith("Method: "):
            method = line.removeprefix("Method: ")
        elif line.startswith("Path: "):
            path = line.removeprefix("Path: ")
            if path == DEFAULT_ROUTE:
                fallback = binary
            else:
                pattern = re.compile("^" + re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")
                found.append((method, pattern, f"{method} {path}", binary))
            method = None
    return sorted(found, key=lambda route: route[2].count("{")), fallback


class Retired(Exception):
    """The container died before this invocation reached it."""


class Function:
    """One function's binary under the Runtime Interface Emulator: one
    container, one invocation at a time."""

    def __init__(self, name: str, binary: Path, env: dict, procs, log, timeout: int = 30):
        self.name, self.lock = name, threading.Lock()
        self.port, self.timeout = services.free_port(), timeout
        # The event being invoked, how many requests chose this container,
        # and whether kill() took it down.
        self.current, self.claims, self.dead, self.state = None, 0, False, threading.Lock()
        self.proc = procs.spawn(
            [str(services.RIE), "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
             "--runtime-api-address", f"127.0.0.1:{services.free_port()}", "--log-level", "error", str(binary)],
            env={**env, "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
                 "AWS_LAMBDA_LOG_FORMAT": "JSON"},
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )
        if not services.wait_for_port(self.port, 10, alive=lambda: self.proc.poll() is None):
            raise RuntimeError(f"{name} did not start under the emulator")

    def invoke(self, event: dict) -> dict:
        url = f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations"
        with self.lock:
            with self.state:
                if self.dead or self.proc.poll() is not None:
                    raise Retired(self.name)
                self.current = event
            try:
                request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST")
                with urllib.request.urlopen(request, timeout=max(60, self.timeout + 30)) as answer:
                    return json.loads(answer.read() or b"null")
            finally:
                with self.state:
                    self.current = None

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None

    def kill(self, noted=None) -> dict | None:
        """SIGKILLs the container, as when a Lambda container dies: the
        function's process (the emulator runs it in a process group of its
        own), then the emulator. Returns the event it was invoking, if any,
        after handing it to `noted` before the kill; no later invocation
        reaches the container."""
        with self.state:
            event, self.dead = self.current, True
            if noted is not None:
                noted(event)
            for pid in [*services.descendants([self.proc.pid]), self.proc.pid]:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc.wait()
        return event


def event_for(method: str, target: str, headers, body: bytes, route_key: str, params: dict) -> dict:
    """The API Gateway HTTP API (2.0) event for one request.

    Headers, the path and the query string go to the function as the client
    sent them, control bytes and raw `"<>` included. API Gateway's
    documentation says nothing of such bytes (its notes on HTTP APIs name
    only the X-Forwarded-* and Content-Type changes:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html#api-gateway-known-issues-http-apis),
    so the local gateway takes the worst case, forwarding them, and the
    functions answer them (shared/src/http/event.rs)."""
    parts = urlsplit(target)
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        name = name.lower()
        lowered[name] = f"{lowered[name]},{value}" if name in lowered else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    event = {
        "version": "2.0", "routeKey": route_key, "rawPath": parts.path, "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "local", "requestId": uuid.uuid4().hex[:16], "routeKey": route_key, "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": lowered.get("user-agent", "")},
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if body:
        event["body"] = text
    return event


def serve(procs, env: dict, port: int, bin_dir: Path = services.ROOT / "target" / "debug", log=None,
          timeout: int = 30, concurrency: int = 1):
    """Serves the API on 127.0.0.1:port until the process is stopped; the
    functions' output goes to `log` (a file), or to ours. Each function runs
    in up to `concurrency` containers, each with `timeout` seconds per
    invocation."""
    if not services.RIE:
        sys.exit("the Lambda Runtime Interface Emulator is missing from .venv (aws-sam-cli); run `make` again")
    table, fallback = routes()
    functions: dict[str, list[Function]] = {}
    starting = threading.Lock()

    def function(name: str) -> Function:
        """A container for one invocation: an idle one, else a new one while
        there are fewer than `concurrency`, else the least claimed. The
        caller gives its claim back with `release`."""
        with starting:
            pool = [f for f in functions.get(name, []) if f.alive()]
            chosen = next((f for f in pool if f.claims == 0), None)
            if chosen is None and len(pool) < concurrency:
                chosen = Function(name, bin_dir / name, env, procs, log, timeout)
                pool.append(chosen)
            chosen = chosen or min(pool, key=lambda f: f.claims)
            functions[name] = pool
            chosen.claims += 1
            return chosen

    def release(container: Function) -> None:
        with starting:
            container.claims -= 1

    def invoke(name: str, event: dict):
        """The function's answer, or None when its container died or did not
        answer (API Gateway's own 500)."""
        while True:
            try:
                container = function(name)
            except Exception:  # it did not start
                return None
            try:
                return container.invoke(event)
            except Retired:  # died while this request waited: another container takes it
                continue
            except Exception:
                return None
            finally:
                release(container)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *_):
            pass

        def answer(self, status: int, headers: dict, body: bytes):
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def end_headers(self):
            # CORS as the deployed HttpApi answers it, for any origin.
            if self.headers.get("Origin"):
                self.send_header("Access-Control-Allow-Origin", self.headers["Origin"])
                self.send_header("Access-Control-Expose-Headers", "x-next-cursor,retry-after")
            super().end_headers()

        def handle_any(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlsplit(self.path).path
            if self.command == "OPTIONS" and self.headers.get("Access-Control-Request-Method"):
                return self.answer(204, {"Access-Control-Allow-Methods": "GET,POST,PATCH,DELETE,OPTIONS",
                                         "Access-Control-Allow-Headers": "authorization,content-type",
                                         "Access-Control-Max-Age": "600"}, b"")
            match = next(((key, fn, m) for method, pattern, key, fn in table
                          if method == self.command and (m := pattern.match(path))), None)
            if match is None and fallback is None:
                # What API Gateway answers when no route takes a request.
                return self.answer(404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}')
            key, name, found = match or (DEFAULT_ROUTE, fallback, None)
            event = event_for(self.command, self.path, self.headers, body, key, found.groupdict() if found else {})
            result = invoke(name, event)  # None: the function died or did not answer, API Gateway's own 500
            if not isinstance(result, dict) or "statusCode" not in result:
                return self.answer(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')
            payload = result.get("body") or ""
            payload = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
            headers = dict(result.get("headers") or {})
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers.setdefault(name, ",".join(values))
            self.answer(int(result["statusCode"]), headers, payload)

        def __getattr__(self, name: str):
            # Every method reaches the routes, TRACE and made-up ones included,
            # as on API Gateway (http.server would answer 501 itself).
            if name.startswith("do_"):
                return self.handle_any
            raise AttributeError(name)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.functions = functions  # the running containers, by function name
    return server


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    chosen = parser.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--port", type=int, help="serve the API on 127.0.0.1:PORT")
    chosen.add_argument("--routes", action="store_true", help="print each function and its route key, and exit")
    args = parser.parse_args()
    if args.routes:
        table, fallback = routes()
        print("\n".join([*(f"{function}\t{key}" for _, _, key, function in table), f"{fallback}\t{DEFAULT_ROUTE}"]))
        sys.exit(0)
    port = args.port
    services.stop_on_signals()
    try:
        with services.Processes() as procs:
            serve(procs, dict(os.environ), port).serve_forever()
    except services.Stopped:
        sys.exit(0)
