"""The suite against Prefect's server (PyPI `prefect`), a FastAPI service on SQLite that nobody
here wrote, and schemathesis beside it in the same run.

Each tool gets a fresh server (its own PREFECT_HOME, a free port of 127.0.0.1), started here and
stopped when the tool is done; the document is the one the server serves (`/api/openapi.json`).

    python3 contract-tests/targets/prefect.py --prefect PATH/TO/prefect --contract target/debug/contract \
        [--schemathesis st] [--cases 20] [--seed 1] [--json OUT] [--check]

With --check, the exit status says whether the report holds what issue 28 asks of it:
- every operation the run got a 5xx from is named in a server-error cause (the run's own count of
  statuses, `server_errors_seen`, and its causes agree);
- at most 100 causes;
- the `x-prefect-api-version` header, which the document allows as any text and the server refuses
  unless it is `x.y.z`, is one cause.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time

from schemathesis_mutants import free_port
from served import Served, fetch, run_schemathesis

HEADER = "header x-prefect-api-version"


class Prefect(Served):
    """A fresh Prefect server (its own PREFECT_HOME), stopped with everything it started."""

    def __init__(self, prefect: str):
        self.home = tempfile.mkdtemp(prefix="prefect-home-")
        self.port = free_port()
        env = dict(os.environ, PREFECT_HOME=self.home, PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   PREFECT_UI_ENABLED="false", PREFECT_SERVER_UI_ENABLED="false")
        self.url = f"http://127.0.0.1:{self.port}/api"
        super().__init__([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                         env, self.url + "/health", os.path.join(self.home, "server.log"), "Prefect")

    def document(self, path: str) -> None:
        fetch(self.url + "/openapi.json", path)


def ours(args, workdir: str) -> dict:
    with Prefect(args.prefect) as srv:
        doc = os.path.join(workdir, "prefect.openapi.json")
        srv.document(doc)
        report = os.path.join(workdir, "ours.json")
        started = time.time()
        subprocess.run([args.contract, "--spec", doc, "--target", srv.url, "--mode", "full",
                        "--cases", str(args.cases), "--seed", str(args.seed),
                        "--report", f"json={report}"] + (["--report", f"html={args.html}"] if args.html else []),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
        secs = round(time.time() - started, 1)
    r = json.load(open(report))
    causes = r["causes"]
    by_check = collections.Counter(
        ("input" if c["category"] == "input" else c["check"]) for c in causes)
    server_ops = sorted({op for c in causes if c["category"] == "server error" for op in c["operations"]})
    return {
        "secs": secs, "requests": r["requests"], "failures": r["failure_count"],
        "causes": len(causes), "causes_by_check": dict(by_check),
        "server_error_operations": server_ops,
        "server_errors_seen": r["server_errors_seen"],
        "unnamed_server_errors": sorted(set(r["server_errors_seen"]) - set(server_ops)),
        "header_causes": [c["summary"] for c in causes if HEADER in c["parts"]],
        "held_back": len(r["held_back"]),
        "status_coverage": {"provoked": r["status_coverage"]["provoked"],
                            "documented": r["status_coverage"]["documented"],
                            "not_provoked_by_status": dict(collections.Counter(
                                str(m["status"]) for m in r["status_coverage"]["not_provoked"]))},
        "cause_list": [{"check": c["check"], "category": c["category"], "count": c["count"],
                        "operations": len(c["operations"]), "summary": c["summary"][:200]}
                       for c in causes],
    }


def schemathesis(args, workdir: str) -> dict:
    with Prefect(args.prefect) as srv:
        doc = os.path.join(workdir, "prefect-st.openapi.json")
        srv.document(doc)
        junit = args.st_junit or os.path.join(workdir, "st.xml")
        secs, found, per_op = run_schemathesis(args.schemathesis, doc, srv.url, args.cases,
                                               args.seed, junit)
    by_check = collections.Counter(title for _, title, _ in found)
    return {
        "secs": secs, "failures": len(found), "by_check": dict(by_check),
        "operations_by_check": {t: len(ops) for t, ops in per_op.items()},
        "server_error_operations": sorted(
            {op for title, ops in per_op.items() if "Server error" in title for op in ops}),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prefect", required=True, help="the prefect command (its venv's bin/prefect)")
    p.add_argument("--contract", required=True, help="our suite's binary (target/debug/contract)")
    p.add_argument("--schemathesis", help="schemathesis's `st`; run side by side when given")
    p.add_argument("--cases", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json")
    p.add_argument("--html", help="where our HTML report goes")
    p.add_argument("--check", action="store_true")
    p.add_argument("--st-junit", help="where schemathesis's JUnit report is kept")
    p.add_argument("--only-schemathesis", action="store_true")
    args = p.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        if args.only_schemathesis:
            out["schemathesis"] = schemathesis(args, d)
            print(json.dumps(out["schemathesis"], indent=1))
            return
        out["ours"] = ours(args, d)
        o = out["ours"]
        print(f"ours: {o['causes']} causes of {o['failures']} failures, {o['requests']} requests, "
              f"{o['secs']} s; server errors on {len(o['server_errors_seen'])} operation(s), "
              f"{len(o['server_error_operations'])} named in a cause")
        sc = o["status_coverage"]
        print(f"  documented statuses provoked: {sc['provoked']} of {sc['documented']}; "
              f"not provoked, by status: {sc['not_provoked_by_status']}")
        for check, n in sorted(o["causes_by_check"].items(), key=lambda x: -x[1]):
            print(f"  {n:4} {check}")
        if args.schemathesis:
            out["schemathesis"] = schemathesis(args, d)
            s = out["schemathesis"]
            print(f"schemathesis: {s['failures']} failures, {s['secs']} s; server errors on "
                  f"{len(s['server_error_operations'])} operation(s)")
            for check, n in sorted(s["operations_by_check"].items(), key=lambda x: -x[1]):
                print(f"  {n:4} operation(s): {check}")
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
    if args.check:
        o = out["ours"]
        problems = []
        if o["unnamed_server_errors"]:
            problems.append(f"server errors named in no cause: {o['unnamed_server_errors']}")
        if o["causes"] > 100:
            problems.append(f"{o['causes']} causes, more than 100")
        if len(o["header_causes"]) != 1:
            problems.append(f"the version header is {len(o['header_causes'])} causes, not one")
        if not o["server_errors_seen"]:
            problems.append("no server error at all: the run did not reach Prefect's known 500s")
        for p_ in problems:
            print(f"FAILED: {p_}")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
