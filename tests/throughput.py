"""Fixtures for tests/throughput.sh: a region with 50 sites (the administrator lists them) and a
guard (who reads themself). Prints the administrator's and the guard's access tokens.

Usage: python3 tests/throughput.py BASE_URL ADMIN_PASSWORD_FILE
"""

import sys

from instructions import call, login

PASSWORD = "Throughput-bench-Passw0rd"


def main(base, password_file):
    with open(password_file) as f:
        admin = login(base, "admin@demo.example", f.read().strip())
    region = call(base, "POST", "/v1/regions", admin, {"name": "Throughput"})["id"]
    for i in range(50):
        call(base, "POST", "/v1/sites", admin, {"name": f"Site {i}", "region_id": region, "time_zone": "America/Toronto"})
    call(base, "POST", "/v1/employees", admin, {
        "employee_number": "G1", "first_name": "Gina", "last_name": "Guard", "username": "gina",
        "password": PASSWORD, "force_change": False,
    })
    print(admin, login(base, "gina", PASSWORD))


if __name__ == "__main__":
    main(*sys.argv[1:3])
