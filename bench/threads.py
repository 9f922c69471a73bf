"""Do gunicorn workers with threads crash under load? One interpreter per run (issue #17, item 11).

    .venv/bin/python bench/threads.py --python /tmp/venv312/bin/python \
        --database-url sqlite:////tmp/bench-crash.db --duration 90

Starts the portal with `--workers 2 --threads 4` from the virtualenv of `--python` (made with
`<python> -m venv DIR && DIR/bin/pip install -r requirements.txt`), logs in as ente1, loads
`/households/` with `wrk -t2 -c8` for `--duration` seconds, and reports the requests served, the
non-2xx answers and the worker processes that died (gunicorn's "was sent SIGSEGV" and similar
lines, plus exit codes). Exits 1 when a worker died. See bench/README.md, "Threads and the
interpreter".
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import LUA_REPORT, BenchError, Server, log_in, portal_environment, serving

DIED = re.compile(r"Worker \(pid:\d+\) (was sent (SIG\w+)|exited with code (\d+))")


def interpreter(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import sys, sysconfig; print(sys.version.replace(chr(10), ' '), "
         "'|', sysconfig.get_config_var('CONFIG_ARGS'))"],
        capture_output=True,
        text=True,
        check=True,
    )  # fmt: skip
    return done.stdout.strip()


GC_CONFIG = """import gc


def post_fork(server, worker):
    gc.set_threshold({threshold})
"""


def run_once(
    python: str, url: str, duration: int, threads: int, log_path: Path, gc_threshold: int | None
) -> dict:
    gunicorn = Path(python).parent / "gunicorn"
    if not gunicorn.exists():
        raise BenchError(f"{gunicorn} is missing: pip install -r requirements.txt in that venv")
    options: tuple[str, ...] = ("--threads", str(threads))
    if gc_threshold is not None:
        # More frequent garbage collections in each worker: a race with the collector shows
        # up sooner. The portal's code is unchanged; only gunicorn's hook after the fork.
        config = log_path.with_suffix(".gunicorn.conf.py")
        config.write_text(GC_CONFIG.format(threshold=int(gc_threshold)))
        options = ("--config", str(config), *options)
    server = Server(
        "portal", "wsgi:app", portal_environment(url), log_path.parent,
        options=options, gunicorn=gunicorn, log_path=log_path,
    )  # fmt: skip
    with serving(server):
        port = server.port
        browser = log_in(port, "ente1")
        page = browser.get("/households/")
        if page.status != 200 or 'id="household-results"' not in page.body:
            raise BenchError(f"/households/ answered {page.status} before the load")
        done = subprocess.run(
            [
                "wrk", "-t2", "-c8", f"-d{duration}s", "--timeout", "10s",
                "-s", str(LUA_REPORT), "-H", f"Cookie: {browser.cookie_header}",
                f"http://127.0.0.1:{port}/households/",
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
        if line is None:
            raise BenchError(f"wrk failed: {done.stderr or done.stdout}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        after = browser.get("/households/")
    log = log_path.read_text(errors="replace")
    # SIGTERM is gunicorn's own graceful stop at the end of the run, not a death.
    deaths = [m.group(0) for m in DIED.finditer(log) if m.group(2) != "SIGTERM"]
    signals = sum(1 for m in DIED.finditer(log) if m.group(2) and m.group(2) != "SIGTERM")
    return {
        "requests": data["requests"],
        "seconds": data["duration_us"] / 1e6,
        "non_2xx": data["status_errors"],
        "socket_errors": data["connect_errors"] + data["read_errors"] + data["write_errors"],
        "timeouts": data["timeouts"] + log.count("WORKER TIMEOUT"),
        "workers_killed_by_signal": signals,
        "death_lines": deaths,
        "still_logged_in_after": after.status == 200,
        "aborts": log.count("free(): invalid pointer") + log.count("double free"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--python", required=True, help="the venv's python, e.g. /tmp/venv312/bin/python"
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=int, default=90, help="seconds of load")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--log", type=Path, help="keep gunicorn's log here")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        help="gc.set_threshold(N) in each worker (default: Python's 700 / 2000 in 3.13)",
    )
    args = parser.parse_args()
    version = interpreter(args.python)
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        log_path = args.log or Path(tmp) / "gunicorn.log"
        result = run_once(
            args.python, args.database_url, args.duration, args.threads, log_path, args.gc_threshold
        )
    result["interpreter"] = version
    result["threads"] = args.threads
    result["gc_threshold"] = args.gc_threshold
    print(json.dumps(result, indent=2))
    return 1 if result["workers_killed_by_signal"] or result["death_lines"] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as problem:
        print(f"threads: {problem}", file=sys.stderr)
        sys.exit(2)
