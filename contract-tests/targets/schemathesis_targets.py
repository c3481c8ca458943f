"""Ours and schemathesis side by side, in one run, on two targets: our CRUD service with each of its
planted faults (`tasks_app.py`, `FAULTS=...`), and json-server (a server nobody here wrote).

For each planted fault, a fresh service runs it; `st run --checks all` (every phase) and our
suite (`contract --spec`) each go against one service of their own. A tool catches a fault when
it reports a finding (check, operation or field, status) that the clean service does not give it
under the same seed, the rule the mutation scores use. Against json-server each tool's checks that
failed are listed.

    python3 contract-tests/targets/schemathesis_targets.py --contract target/debug/contract \
        --json-server ~/.cache/phala-openapi-rs/json-server/node_modules/.bin/json-server \
        --json target/schemathesis-targets.json
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# The same reading of schemathesis's JUnit as the mutation harness beside this file.
from schemathesis_mutants import findings, free_port, wait

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = "reference-key,reference-key-2"
FAULTS = [
    "create-not-stored", "delete-keeps", "list-shows-deleted", "update-not-kept",
    "update-resets-absent", "stale-answer", "null-ignored", "other-user-reads",
    "other-user-deletes", "second-delete-500", "read-after-delete-500", "allow-missing",
    "method-served", "location-dropped", "idempotency-ignored", "text-plain",
    "read-auth-ignored", "near-miss-key", "slow-read", "repeat-500", "put-merges",
    # The document's promises (issue 29): conditional requests, Location, unique names, nested
    # milestones, a boundary of the labels' cursor, an enum that folds case.
    "stale-if-match-accepted", "etag-unchanged", "if-none-match-ignored", "location-elsewhere",
    "duplicate-name-accepted", "milestone-under-any-project", "milestones-outlive-project",
    "cursor-ends-early", "enum-case-folded",
]


def start_tasks(fault: str):
    port = free_port()
    env = dict(os.environ, API_KEYS=KEYS, FAULTS=fault)
    p = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tasks_app:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "critical"],
        cwd=HERE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(port)
    return p, f"http://127.0.0.1:{port}"


def start_json_server(cmd: str, d: str):
    port = free_port()
    with open(os.path.join(d, "db.json"), "w") as f:
        f.write('{"posts": []}')
    p = subprocess.Popen([cmd, "db.json", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
                         cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait(port)
    return p, f"http://127.0.0.1:{port}"


def schemathesis(doc: str, url: str, key, args) -> set:
    """Schemathesis's failures as (operation, check title, status)."""
    with tempfile.TemporaryDirectory() as d:
        junit = os.path.join(d, "junit.xml")
        cmd = [args.schemathesis, "run", doc, "--url", url, "--checks", "all",
               "--max-examples", str(args.max_examples), "--seed", str(args.seed),
               "--max-response-time", "1",
               "--report", "junit", "--report-junit-path", junit]
        if key:
            cmd += ["-H", f"X-API-Key: {key}"]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        return findings(junit)


COVERAGE = {}


def ours(doc: str, url: str, key, other, args) -> set:
    """Our failures as (check, field, status); the run's status coverage is kept in COVERAGE."""
    with tempfile.TemporaryDirectory() as d:
        report = os.path.join(d, "report.json")
        cmd = [args.contract, "--spec", doc, "--target", url, "--mode", "full",
               "--cases", str(args.cases), "--seed", str(args.seed), "--max-response-time", "1",
               "--readback-timeout", "0.3", "--report", f"json={report}"]
        if key:
            cmd += ["--api-key", key]
        if other:
            cmd += ["--other-api-key", other]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        r = json.load(open(report))
        COVERAGE.update(r.get("status_coverage") or {})
        out = set()
        for v in r["violations"] + r["flaky"]:
            status = str(v["answer"].get("status", ""))
            # The field without an item's own id, so that runs compare.
            field = re.sub(r"/\d+", "/{id}", v["field"])
            out.add((v["check"], field, status))
        return out


def timed(f, *a):
    t = time.time()
    r = f(*a)
    return r, round(time.time() - t, 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--contract", required=True, help="our suite's binary (target/debug/contract)")
    p.add_argument("--json-server", help="json-server's command; its row is skipped without it")
    p.add_argument("--schemathesis", default="st", help="schemathesis's `st` (default: on PATH)")
    p.add_argument("--max-examples", type=int, default=10)
    p.add_argument("--cases", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json")
    args = p.parse_args()
    doc = os.path.join(HERE, "tasks.openapi.json")
    key, other = KEYS.split(",")

    def both(fault):
        srv, url = start_tasks(fault)
        try:
            mine, t_mine = timed(ours, doc, url, key, other, args)
        finally:
            srv.kill(), srv.wait()
        srv, url = start_tasks(fault)
        try:
            theirs, t_theirs = timed(schemathesis, doc, url, key, args)
        finally:
            srv.kill(), srv.wait()
        return mine, theirs, t_mine, t_theirs

    clean_mine, clean_theirs, _, _ = both("")
    coverage = dict(COVERAGE)
    print(f"clean service: documented statuses provoked (ours): {coverage.get('provoked')} of "
          f"{coverage.get('documented')}; schemathesis's findings: {sorted(clean_theirs)}")
    rows = []
    for fault in FAULTS:
        mine, theirs, t_mine, t_theirs = both(fault)
        new_mine = sorted(mine - clean_mine)
        new_theirs = sorted(theirs - clean_theirs)
        rows.append({"fault": fault, "ours": bool(new_mine), "schemathesis": bool(new_theirs),
                     "ours_checks": sorted({c for c, _, _ in new_mine}),
                     "schemathesis_checks": sorted({c for _, c, _ in new_theirs}),
                     "ours_secs": t_mine, "schemathesis_secs": t_theirs})
        print(f"{fault:24} ours {'caught' if new_mine else 'MISSED':7} {rows[-1]['ours_checks']}"
              f" | schemathesis {'caught' if new_theirs else 'MISSED':7} {rows[-1]['schemathesis_checks']}")
    report = {
        "tasks": {
            "clean_ours": sorted(clean_mine), "clean_schemathesis": sorted(clean_theirs),
            "clean_ours_status_coverage": coverage,
            "faults": rows,
            "ours_caught": sum(r["ours"] for r in rows),
            "schemathesis_caught": sum(r["schemathesis"] for r in rows),
        }
    }
    print(f"planted faults: ours {report['tasks']['ours_caught']}/{len(rows)}, "
          f"schemathesis {report['tasks']['schemathesis_caught']}/{len(rows)}; clean service: "
          f"ours {len(clean_mine)} finding(s), schemathesis {len(clean_theirs)}")
    if args.json_server:
        js_doc = os.path.join(HERE, "json-server.openapi.yaml")
        with tempfile.TemporaryDirectory() as d:
            srv, url = start_json_server(args.json_server, d)
            try:
                mine, t_mine = timed(ours, js_doc, url, None, None, args)
            finally:
                srv.kill(), srv.wait()
        with tempfile.TemporaryDirectory() as d:
            srv, url = start_json_server(args.json_server, d)
            try:
                theirs, t_theirs = timed(schemathesis, js_doc, url, None, args)
            finally:
                srv.kill(), srv.wait()
        report["json_server"] = {
            "ours": sorted({c for c, _, _ in mine}), "ours_secs": t_mine,
            "schemathesis": sorted({c for _, c, _ in theirs}), "schemathesis_secs": t_theirs,
        }
        print(f"json-server: ours {report['json_server']['ours']} ({t_mine} s); "
              f"schemathesis {report['json_server']['schemathesis']} ({t_theirs} s)")
    if args.json:
        json.dump(report, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
