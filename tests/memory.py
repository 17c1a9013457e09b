"""Driver for tests/memory.sh: times logins and password changes (the argon2id operations) on a
`guardpost serve` whose CPU is limited to a Lambda function's share at one memory size.

Usage: python3 tests/memory.py BASE_URL ADMIN_PASSWORD_FILE N MEMORY_MB
Prints one row: memory, CPU share, login p50/max, password change p50/max (ms), and the Lambda
arm64 compute cost of a million of each at that size from the p50.
"""

import statistics
import sys
import time

import urllib.error

from instructions import call, login

# Lambda gives a whole vCPU at 1,769 MB and CPU in proportion below it.
FULL_VCPU_MB = 1769
# arm64, us-east-1: USD per GB-second.
GB_SECOND_USD = 0.0000133334
PASSWORDS = ["Memory-bench-Passw0rd-one", "Memory-bench-Passw0rd-two"]


def timed(f):
    start = time.perf_counter()
    f()
    return (time.perf_counter() - start) * 1000


def main(base, password_file, n, memory_mb):
    n, memory_mb = int(n), int(memory_mb)
    with open(password_file) as f:
        admin = login(base, "admin@demo.example", f.read().strip())
    call(base, "POST", "/v1/employees", admin, {
        "employee_number": "M1", "first_name": "Moira", "last_name": "Memory", "username": "moira",
        "password": PASSWORDS[0], "force_change": False,
    })
    logins, changes = [], []
    # One unmeasured round first: the first request of a process pays for its start.
    for i in range(n + 1):
        current, new = PASSWORDS[i % 2], PASSWORDS[(i + 1) % 2]
        token = {}
        took = timed(lambda: token.setdefault("t", login(base, "moira", current)))
        changed = timed(lambda: call(base, "POST", "/v1/me/password", token["t"],
                                     {"current_password": current, "new_password": new}))
        if i > 0:
            logins.append(took)
            changes.append(changed)
    share = memory_mb / FULL_VCPU_MB

    def cost(ms):
        return memory_mb / 1024 * ms / 1000 * GB_SECOND_USD * 1e6

    login_p50, change_p50 = statistics.median(logins), statistics.median(changes)
    print(f"| {memory_mb:,} MB | {share:.3f} | {login_p50:,.0f} / {max(logins):,.0f} | "
          f"{change_p50:,.0f} / {max(changes):,.0f} | {cost(login_p50):.2f} | {cost(change_p50):.2f} |")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:5])
    except urllib.error.HTTPError as e:
        sys.exit(f"{e.code} from {e.url}: {e.read().decode()}")
