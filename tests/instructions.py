"""Instructions per request of the hottest operations, counted by valgrind's callgrind on a
running `guardpost serve` (docs/BENCHMARKS.md, "Instructions per request"). Instruction counts
are repeatable where timings on a shared 2-core machine are not.

Run by tests/instructions.sh, which starts the server under
`valgrind --tool=callgrind --instr-atstart=no`; this script makes the fixtures with
instrumentation off, then for each operation switches it on, sends N requests one after
another, switches it off and dumps the counts. Everything the process does in that window is
counted: the HTTP server, routing, layers, the handler, the store (the SQLite writer thread
too) and the JSON out.

The dumps are kept in target/instructions/ (`callgrind_annotate --inclusive=yes FILE` shows
where an operation's instructions go).

Usage: python3 tests/instructions.py BASE_URL ADMIN_PASSWORD_FILE SERVER_PID OUT_DIR [N]
"""

import datetime
import glob
import json
import os
import shutil
import subprocess
import sys
import urllib.request

PASSWORD = "Instructions-bench-Passw0rd"


def call(base, method, path, token=None, body=None, key=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    if key:
        req.add_header("idempotency-key", key)
    with urllib.request.urlopen(req, timeout=600) as res:
        text = res.read()
        return json.loads(text) if text else None


def login(base, who, password):
    return call(base, "POST", "/v1/auth/login", body={"org": "demo", "login": who, "password": password})["access_token"]


def fixtures(base, admin_password):
    """A region with 20 sites, a guard assigned to 5 of them with a shift now at the first."""
    admin = login(base, "admin@demo.example", admin_password)
    region = call(base, "POST", "/v1/regions", admin, {"name": "Bench"})["id"]
    sites = [
        call(base, "POST", "/v1/sites", admin, {"name": f"Site {i}", "region_id": region, "time_zone": "America/Toronto"})["id"]
        for i in range(20)
    ]
    guard = call(base, "POST", "/v1/employees", admin, {
        "employee_number": "G1", "first_name": "Gina", "last_name": "Guard", "username": "gina",
        "password": PASSWORD, "force_change": False,
    })["id"]
    for site in sites[:5]:
        call(base, "PUT", f"/v1/sites/{site}/employees/{guard}", admin)
    now = datetime.datetime.now(datetime.timezone.utc)
    shift = {"employee_id": guard, "start": (now - datetime.timedelta(hours=1)).isoformat(),
             "end": (now + datetime.timedelta(hours=7)).isoformat(), "position": "Front desk"}
    call(base, "POST", f"/v1/sites/{sites[0]}/shifts", admin, shift)
    return admin, login(base, "gina", PASSWORD), sites, region


def operations(admin, guard, sites, region):
    """(name, requests to send in turn): a write alternates with what undoes it, and only the
    first request of each pair is its own operation; the pair is counted and halved."""
    site = sites[0]
    n = [0]

    def key():
        n[0] += 1
        return f"instructions-{n[0]}"

    def employee(i):
        return {"employee_number": f"E{i}", "first_name": "Bench", "last_name": "Employee",
                "username": f"bench{i}", "email": f"bench{i}@demo.example"}

    return [
        ("GET /health", None, lambda i: [("GET", "/health", None, None, None)]),
        ("GET /v1/me", "read", lambda i: [("GET", "/v1/me", guard, None, None)]),
        ("GET /v1/me/sites (5 assigned)", "read", lambda i: [("GET", "/v1/me/sites", guard, None, None)]),
        ("GET /v1/sites (20 sites, admin)", "read", lambda i: [("GET", "/v1/sites", admin, None, None)]),
        ("GET /v1/me/shifts", "read", lambda i: [("GET", "/v1/me/shifts", guard, None, None)]),
        ("GET /v1/sites/{id}/employees", "read", lambda i: [("GET", f"/v1/sites/{site}/employees", admin, None, None)]),
        ("clock-in + clock-out (planned, Idempotency-Key)", "write", lambda i: [
            ("POST", f"/v1/sites/{site}/clock-in", guard, {}, key()),
            ("POST", f"/v1/sites/{site}/clock-out", guard, {}, key()),
        ]),
        ("start-break + end-break (Idempotency-Key)", "write", lambda i: [
            ("POST", f"/v1/sites/{site}/breaks/start", guard, {}, key()),
            ("POST", f"/v1/sites/{site}/breaks/end", guard, {}, key()),
        ]),
        ("POST /v1/employees (no password)", "write", lambda i: [("POST", "/v1/employees", admin, employee(i), None)]),
        ("POST /v1/sites", "write", lambda i: [
            ("POST", "/v1/sites", admin, {"name": f"More {i}", "region_id": region, "time_zone": "Europe/London"}, None)
        ]),
    ]


def control(pid, *args):
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def total_instructions(out_dir, before, keep_as):
    """The dump's total, the dump kept under target/instructions/ for callgrind_annotate."""
    new = sorted(set(glob.glob(os.path.join(out_dir, "callgrind.out.*"))) - before, key=os.path.getmtime)
    if not new:
        raise SystemExit("callgrind wrote no dump")
    os.makedirs("target/instructions", exist_ok=True)
    shutil.copy(new[-1], os.path.join("target/instructions", keep_as))
    with open(new[-1]) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit("no totals in " + new[-1])


def main(base, password_file, pid, out_dir, n=50):
    with open(password_file) as f:
        admin_password = f.read().strip()
    admin, guard, sites, region = fixtures(base, admin_password)
    rows = []
    # A clock-in between the break pair's rounds: breaks need one.
    for name, kind, make in operations(admin, guard, sites, region):
        if name.startswith("start-break"):
            call(base, "POST", f"/v1/sites/{sites[0]}/clock-in", guard, {})
        for request in make(n):  # one unmeasured round first: lazy statics, caches
            call(base, *request)
        before = set(glob.glob(os.path.join(out_dir, "callgrind.out.*")))
        control(pid, "-z")
        control(pid, "-i", "on")
        for i in range(n):
            for request in make(i):
                call(base, *request)
        control(pid, "-i", "off")
        control(pid, "-d")
        slug = "".join(c if c.isalnum() else "-" for c in name.split(" (")[0].lower()).strip("-")
        per_round = total_instructions(out_dir, before, slug + ".callgrind") / n
        per_request = per_round / len(make(0))
        rows.append((name, kind, per_request))
        if name.startswith("start-break"):
            call(base, "POST", f"/v1/sites/{sites[0]}/clock-out", guard, {})
        print(f"  {name:<50} {per_request / 1e6:8.3f} M instructions per request", flush=True)
    health = rows[0][2]
    print(f"\n| operation | kind | instructions per request | x GET /health |")
    print("|---|---|---:|---:|")
    for name, kind, per in rows:
        print(f"| `{name}` | {kind or 'reference'} | {per / 1e6:.2f} M | {per / health:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], *(int(a) for a in sys.argv[5:]))
