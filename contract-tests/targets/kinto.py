"""The suite against Kinto (PyPI `kinto`), a JSON storage service that nobody here wrote, which
serves its own Swagger 2.0 document, and schemathesis beside it in the same run.

Each tool gets a fresh server (memory backends, HTTP basic auth, a free port of 127.0.0.1),
started here and stopped when the tool is done; the document is the one the server serves
(`/v1/__api__`). Both tools carry two users' credentials (`alice`, `bob`): Kinto makes a user of
any basic credential, so the stateful checks (a second user, nested resources) have something
to work on.

    python3 contract-tests/targets/kinto.py --kinto PATH/TO/kinto --contract target/release/contract \\
        [--schemathesis st] [--cases 10] [--seed 1] [--json OUT] [--check]

With --check, the exit status says whether the run holds what issue 30 asks of a real 2.0 server:
- the run is stateful: the resource checks (availability, use after free, another user's access,
  conditional requests with the `ETag`s Kinto gives) judged something;
- no false positive: every cause is one checked by hand against Kinto's code (`REVIEWED` below,
  each with what was found); a cause not in that list fails the run until someone reviews it;
- every operation the run got a 5xx from is named in a server-error cause.
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

ALICE = "alice:secret1"
BOB = "bob:secret2"

# (check, operation): causes checked by hand against Kinto 26.5.0, each a real fault.
REVIEWED = {
    # 500: `AttributeError` on `permissions_field` when the permissions list gets `If-None-Match`.
    ("not_a_server_error", "get_permissionss"),
    # 500: a batch whose body is a JSON list (`'list' object has no attribute 'get'`).
    ("not_a_server_error", "batch"),
    # 500: bcrypt refuses a password past 72 bytes with a `ValueError` nobody catches.
    ("not_a_server_error", "create_account"),
    # 500: `Response-Behavior: light` on a group's PATCH (`KeyError: 'id'`).
    ("not_a_server_error", "patch_group"),
    # 500: `/__version__` without the `version.json` the default settings name.
    ("not_a_server_error", "version"),
    # A null where the document allows no null (a batch request's `method`, `permissions.read`,
    # a record's `data` fields) is taken as if left out: 200/201, not a 4xx.
    ("negative_data_rejection", "batch"),
    ("negative_data_rejection", "create_record"),
    ("negative_data_rejection", "create_collection"),
    ("negative_data_rejection", "create_group"),
    ("negative_data_rejection", "create_bucket"),
    ("negative_data_rejection", "patch_collection"),
    ("negative_data_rejection", "patch_group"),
    ("negative_data_rejection", "patch_bucket"),
    ("negative_data_rejection", "patch_record"),
    ("negative_data_rejection", "update_group"),
    ("negative_data_rejection", "update_collection"),
    ("negative_data_rejection", "update_bucket"),
    ("negative_data_rejection", "update_record"),
}

STATEFUL = ("ensure_resource_availability", "use_after_free", "object_level_authorization",
            "conditional_requests")

CONFIG = """[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}

[app:main]
use = egg:kinto
kinto.includes = kinto.plugins.default_bucket
                 kinto.plugins.accounts
kinto.storage_backend = kinto.core.storage.memory
kinto.storage_url =
kinto.cache_backend = kinto.core.cache.memory
kinto.cache_url =
kinto.permission_backend = kinto.core.permission.memory
kinto.permission_url =
kinto.userid_hmac_secret = {secret}
kinto.default_bucket_hmac_secret = {secret}
multiauth.policies = basicauth
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.account_create_principals = system.Everyone
kinto.bucket_create_principals = system.Authenticated

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
formatter = plain

[formatter_plain]
format = %(asctime)s %(levelname)s %(name)s %(message)s
"""


class Kinto(Served):
    """A fresh Kinto (memory backends, its own config), stopped with everything it started."""

    def __init__(self, kinto: str):
        self.dir = tempfile.mkdtemp(prefix="kinto-")
        self.port = free_port()
        ini = os.path.join(self.dir, "config.ini")
        with open(ini, "w") as f:
            f.write(CONFIG.format(port=self.port, secret=os.urandom(16).hex()))
        self.url = f"http://127.0.0.1:{self.port}/v1"
        super().__init__([kinto, "start", "--ini", ini, "--port", str(self.port)], dict(os.environ),
                         self.url + "/__heartbeat__", os.path.join(self.dir, "server.log"), "Kinto",
                         wait=60)

    def document(self, path: str) -> None:
        fetch(self.url + "/__api__", path)


def ours(args, workdir: str) -> dict:
    with Kinto(args.kinto) as srv:
        doc = os.path.join(workdir, "kinto.swagger.json")
        srv.document(doc)
        report = os.path.join(workdir, "ours.json")
        started = time.time()
        # The credentials go by environment, as a user keeps them out of a CI log.
        env = dict(os.environ, CONTRACT_AUTH=ALICE, CONTRACT_OTHER_AUTH=BOB)
        subprocess.run([args.contract, "--spec", doc, "--target", srv.url, "--mode", "full",
                        "--cases", str(args.cases), "--seed", str(args.seed),
                        "--report", f"json={report}"] + (["--report", f"html={args.html}"] if args.html else []),
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        secs = round(time.time() - started, 1)
        log = open(os.path.join(srv.dir, "server.log")).read()
    r = json.load(open(report))
    causes = r["causes"]
    server_ops = sorted({op for c in causes if c["category"] == "server error" for op in c["operations"]})
    unreviewed = sorted({(c["check"], op) for c in causes for op in c["operations"]} - REVIEWED)
    return {
        "secs": secs, "requests": r["requests"], "failures": r["failure_count"],
        "causes": len(causes),
        "causes_by_check": dict(collections.Counter(c["check"] for c in causes)),
        "server_error_operations": server_ops,
        "server_errors_seen": r["server_errors_seen"],
        "unnamed_server_errors": sorted(set(r["server_errors_seen"]) - set(server_ops)),
        "unreviewed": unreviewed,
        "stateful_judged": {c: r["checks"][c]["judged"] for c in STATEFUL + ("pagination_consistency",)},
        "status_coverage": {"provoked": r["status_coverage"]["provoked"],
                            "documented": r["status_coverage"]["documented"],
                            "not_provoked_by_status": dict(collections.Counter(
                                str(m["status"]) for m in r["status_coverage"]["not_provoked"]))},
        "secret_in_output": any(s.split(":")[1] in open(report).read() for s in (ALICE, BOB)),
        "tracebacks_in_server_log": log.count("Traceback"),
        "cause_list": [{"check": c["check"], "count": c["count"], "operations": c["operations"],
                        "summary": c["summary"][:200]} for c in causes],
    }


def schemathesis(args, workdir: str) -> dict:
    with Kinto(args.kinto) as srv:
        doc = os.path.join(workdir, "kinto-st.swagger.json")
        srv.document(doc)
        junit = args.st_junit or os.path.join(workdir, "st.xml")
        secs, found, per_title = run_schemathesis(args.schemathesis, doc, srv.url, args.cases,
                                                  args.seed, junit, ("--auth", ALICE), 1800)
    return {
        "secs": secs, "failures": len(found),
        "operations_by_check": {t: sorted(ops) for t, ops in per_title.items()},
        "server_error_operations": sorted(
            {op for title, ops in per_title.items() if "Server error" in title for op in ops}),
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kinto", required=True, help="the kinto command (its venv's bin/kinto)")
    p.add_argument("--contract", required=True, help="our suite's binary (target/release/contract)")
    p.add_argument("--schemathesis", help="schemathesis's `st`; run side by side when given")
    p.add_argument("--cases", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json")
    p.add_argument("--html", help="where our HTML report goes")
    p.add_argument("--st-junit", help="where schemathesis's JUnit report is kept")
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        out["ours"] = o = ours(args, d)
        print(f"ours: {o['causes']} causes of {o['failures']} failures, {o['requests']} requests, "
              f"{o['secs']} s; server errors on {len(o['server_errors_seen'])} operation(s), "
              f"{len(o['server_error_operations'])} named in a cause; stateful checks judged "
              f"{o['stateful_judged']}; documented statuses provoked: "
              f"{o['status_coverage']['provoked']} of {o['status_coverage']['documented']}")
        for c in o["cause_list"]:
            print(f"  {c['check']:26} {','.join(c['operations'])}: {c['summary'][:110]}")
        if args.schemathesis:
            out["schemathesis"] = s = schemathesis(args, d)
            print(f"schemathesis: {s['failures']} failures, {s['secs']} s; server errors on "
                  f"{len(s['server_error_operations'])} operation(s): {s['server_error_operations']}")
            for title, ops in sorted(s["operations_by_check"].items(), key=lambda x: -len(x[1])):
                print(f"  {len(ops):4} operation(s): {title}")
    if args.json:
        json.dump(out, open(args.json, "w"), indent=2)
    if args.check:
        o = out["ours"]
        problems = []
        if o["unnamed_server_errors"]:
            problems.append(f"server errors named in no cause: {o['unnamed_server_errors']}")
        for check, op in o["unreviewed"]:
            problems.append(f"a cause nobody reviewed: {check} on {op} (a false positive, or a new "
                            f"fault to check by hand and add to REVIEWED)")
        for check in STATEFUL:
            if not o["stateful_judged"][check]:
                problems.append(f"{check} judged nothing: the run was not stateful")
        if o["secret_in_output"]:
            problems.append("a password is in the JSON report")
        for p_ in problems:
            print(f"FAILED: {p_}")
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
