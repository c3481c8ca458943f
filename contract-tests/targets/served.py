"""A real server for a side-by-side run: started fresh in its own session, waited for until it
answers, and stopped with everything it started. Shared by prefect.py and kinto.py."""

import collections
import os
import signal
import subprocess
import time
import urllib.request

from schemathesis_mutants import findings


class Served:
    """`argv` started with `env` (stdout and stderr to `log`), ready once `ready` answers 200."""

    def __init__(self, argv, env, ready: str, log: str, name: str, wait: float = 180):
        self.log = open(log, "w")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        until = time.time() + wait
        while time.time() < until:
            try:
                with urllib.request.urlopen(ready, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"{name} did not start; its log: {log}")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def fetch(url: str, path: str) -> None:
    """Saves what `url` answers (a served document) at `path`."""
    with urllib.request.urlopen(url, timeout=30) as r:
        with open(path, "wb") as f:
            f.write(r.read())


def run_schemathesis(st: str, doc: str, url: str, cases: int, seed: int, junit: str,
                     extra=(), timeout: float = 3600):
    """`st run --checks all` (every phase) of `doc` against `url`, its JUnit kept at `junit`:
    how long it took (s), its findings (operation, check title, message), and the operations
    each check title failed on."""
    started = time.time()
    subprocess.run([st, "run", doc, "--url", url, "--checks", "all", "--max-examples", str(cases),
                    "--seed", str(seed), *extra, "--report", "junit", "--report-junit-path", junit],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    secs = round(time.time() - started, 1)
    found = findings(junit)
    per_title = collections.defaultdict(set)
    for op, title, _ in found:
        per_title[title].add(op)
    return secs, found, per_title
