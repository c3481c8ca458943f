"""Schemathesis's kill count on the faults `cargo xtask mutants --spec DOC` generated, for a
side-by-side score in the same run.

For each fault named in our mutants JSON, the document's mock (`serve --spec DOC --fault NAME`,
or with `--reference` spec/'s reference server, `serve --fault NAME`) is started, `st run --checks all` (every phase) runs against it, and its failures are compared with
those of the clean mock under the same seed: a fault is killed when schemathesis reports a failure
(operation, check, status) the clean mock does not give, the rule our own score uses.

    python3 contract-tests/targets/schemathesis_mutants.py --doc DOC --serve target/debug/serve \
        --ours target/mutants/notes.json --json target/mutants/notes-schemathesis.json
"""

import argparse
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(port: int) -> None:
    """Until something listens on the port, for at most 30 s."""
    until = time.time() + 30
    while time.time() < until:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)


def findings(junit: str) -> set:
    """Each failure as (operation, check title, answer status)."""
    out = set()
    if not os.path.exists(junit):
        return out
    for case in ET.parse(junit).iter("testcase"):
        for f in case:
            if f.tag not in ("failure", "error"):
                continue
            text = f.text or ""
            status = re.search(r"^\[(\d{3})\]", text, re.M)
            for title in re.findall(r"^- (.+)$", text, re.M):
                out.add((case.get("name"), title.strip(), status.group(1) if status else ""))
    return out


def run(args, fault):
    port = free_port()
    cmd = [args.serve, "--port", str(port), "--duration", "600"]
    if not args.reference:
        cmd += ["--spec", args.doc]
    if fault:
        cmd += ["--fault", fault]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait(port)
        with tempfile.TemporaryDirectory() as d:
            junit = os.path.join(d, "junit.xml")
            subprocess.run(
                ["st", "run", args.doc, "--url", f"http://127.0.0.1:{port}",
                 "-H", f"X-API-Key: {args.api_key}", "--checks", "all",
                 "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                 "--report", "junit", "--report-junit-path", junit],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600,
            )
            return findings(junit)
    finally:
        server.kill()
        server.wait()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--doc", required=True)
    p.add_argument("--serve", required=True, help="the serve binary (target/debug/serve)")
    p.add_argument("--ours", required=True, help="the JSON of cargo xtask mutants --spec DOC")
    p.add_argument("--api-key", default="reference-key")
    p.add_argument("--reference", action="store_true",
                   help="the faults are spec/'s: serve its reference server, not the mock of --doc")
    p.add_argument("--max-examples", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--clean-runs", type=int, default=3,
                   help="clean runs whose findings, together, a kill must go beyond: schemathesis "
                        "does not give the same findings on every run with one seed")
    p.add_argument("--json")
    args = p.parse_args()
    ours = json.load(open(args.ours))
    names = [f["name"] for f in ours["faults"]]
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        cleans = list(pool.map(lambda _: run(args, None), range(max(args.clean_runs, 1))))
        clean = set().union(*cleans)
        results = dict(zip(names, pool.map(lambda n: run(args, n), names)))
    killed = {n: sorted(f - clean) for n, f in results.items() if f - clean}
    # How far apart the clean runs were: findings some gave and others did not.
    unsteady = sorted(clean - set.intersection(*cleans))
    ours_killed = {f["name"] for f in ours["faults"] if f["killed"]}
    report = {
        "document": args.doc,
        "total": len(names),
        "killed": len(killed),
        "ours_killed": len(ours_killed),
        "only_schemathesis": sorted(set(killed) - ours_killed),
        "only_ours": sorted(ours_killed - set(killed)),
        "clean_findings": sorted(clean),
        "clean_runs": len(cleans),
        "clean_unsteady": unsteady,
        "killed_by": killed,
        "elapsed_secs": round(time.time() - started, 1),
    }
    print(f"{args.doc}: schemathesis kills {len(killed)}/{len(names)}, ours {len(ours_killed)}/{len(names)}"
          f" ({report['elapsed_secs']} s for schemathesis)")
    print(f"  killed only by schemathesis: {report['only_schemathesis']}")
    print(f"  killed only by ours: {len(report['only_ours'])}")
    print(f"  findings only some of the {len(cleans)} clean runs gave: {len(unsteady)}")
    if args.json:
        json.dump(report, open(args.json, "w"), indent=2)


if __name__ == "__main__":
    main()
