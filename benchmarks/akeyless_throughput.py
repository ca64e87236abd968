"""Akeyless emulator throughput, side by side: get-secret-value and API-key /auth on the lab's
plain-HTTP Akeyless port, versus moto's server answering Secrets Manager GetSecretValue, versus a
raw asyncio server returning a fixed JSON body (the floor). Driven by `wrk` at 1 and 8 connections.

    .venv/bin/python benchmarks/akeyless_throughput.py [--duration 5] [--connections 1 8]

Every lab request is a real one: the get-secret-value token belongs to a non-admin API-key auth
method, so each read goes through the role rules, and each is audited (the script checks the audit
count grew by the number of requests wrk made).

Needs `wrk` (apt-get install -y wrk). moto pins python-dateutil<3, which conflicts with kubernetes,
so it gets its own virtual environment under .cache/bench-moto, created here on first use.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "akeyless"
sys.path.insert(0, str(ROOT))

import akeyless  # noqa: E402

from helpers import lab as lab_runtime  # noqa: E402
from helpers.config import Settings  # noqa: E402

MOTO_VENV = ROOT / ".cache" / "bench-moto"
AWS_AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/secretsmanager/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0000")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=2)
            return
        except urllib.error.HTTPError:
            return          # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")


def post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def wrk(url: str, body: str, connections: int, duration: int, **headers: str) -> dict:
    env = dict(os.environ, WRK_BODY=body, WRK_CONTENT_TYPE=headers.get("content_type", "application/json"),
               WRK_AMZ_TARGET=headers.get("amz_target", ""), WRK_AUTHORIZATION=headers.get("authorization", ""))
    threads = min(connections, 2)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
                          "-s", str(HERE / "post.lua"), url], env=env, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "requests": total, "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else "", "p50": p50.group(1) if p50 else "?",
            "p99": p99.group(1) if p99 else "?"}


# --- the three servers ---------------------------------------------------------------------------

def start_lab(lab_dir: Path):
    settings = Settings.load(target="lab", lab_dir=str(lab_dir))
    info = lab_runtime.up(settings)
    config = akeyless.Configuration(host=info.akeyless_http_url)
    api = akeyless.V2Api(akeyless.ApiClient(config))
    creds = info.akeyless_admin()
    admin = api.auth(akeyless.Auth(access_id=creds["access_id"], access_key=creds["access_key"])).token
    api.create_secret(akeyless.CreateSecret(name="/bench/db", value="fixed-value", token=admin))
    reader = api.create_auth_method(akeyless.CreateAuthMethod(name="/bench/reader", token=admin))
    api.create_role(akeyless.CreateRole(name="/bench/readers", token=admin))
    api.set_role_rule(akeyless.SetRoleRule(role_name="/bench/readers", path="/bench/*", capability=["read"], token=admin))
    api.assoc_role_auth_method(akeyless.AssocRoleAuthMethod(role_name="/bench/readers", am_name="/bench/reader",
                                                            token=admin))
    token = api.auth(akeyless.Auth(access_id=reader.access_id, access_key=reader.access_key)).token
    assert api.get_secret_value(akeyless.GetSecretValue(names=["/bench/db"], token=token)) == {"/bench/db": "fixed-value"}
    return settings, info, admin, reader, token


def audited(info, admin: str) -> int:
    return post(info.akeyless_http_url + "/lab-only/audit-log", {"token": admin, "limit": 1})["recorded_since_start"]


def ensure_moto() -> Path:
    server = MOTO_VENV / "bin" / "moto_server"
    if not server.exists():
        print(f"creating {MOTO_VENV} and installing moto[server] (first run only)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(MOTO_VENV)], check=True)
        subprocess.run([str(MOTO_VENV / "bin" / "pip"), "install", "-q", "moto[server]"], check=True)
    return server


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(ensure_moto()), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    wait_http(url)
    post(url, {"Name": "bench-db", "SecretString": "fixed-value"},
         {"X-Amz-Target": "secretsmanager.CreateSecret", "Content-Type": "application/x-amz-json-1.1",
          "Authorization": AWS_AUTH})
    return proc, url


def start_floor() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(HERE / "floor_server.py"), str(port)])
    url = f"http://127.0.0.1:{port}/"
    wait_http(url)
    return proc, url


# --- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--no-moto", action="store_true", help="skip the moto peer")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="bench-akeyless-") as tmp:
        settings, info, admin, reader, token = start_lab(Path(tmp) / "lab")
        try:
            floor, floor_url = start_floor()
            procs.append(floor)
            moto_url = None
            if not args.no_moto:
                moto, moto_url = start_moto()
                procs.append(moto)
            gsv = json.dumps({"names": ["/bench/db"], "version": 0, "token": token})
            auth = json.dumps({"access-id": reader.access_id, "access-key": reader.access_key,
                               "access-type": "access_key", "gcp-audience": "akeyless.io", "json": False,
                               "oci-auth-type": "apikey"})
            cases = [("lab get-secret-value", lambda c: wrk(info.akeyless_http_url + "/get-secret-value", gsv, c, args.duration)),
                     ("lab /auth (API key)", lambda c: wrk(info.akeyless_http_url + "/auth", auth, c, args.duration))]
            if moto_url:
                cases.append(("moto GetSecretValue", lambda c: wrk(
                    moto_url, json.dumps({"SecretId": "bench-db"}), c, args.duration,
                    content_type="application/x-amz-json-1.1", amz_target="secretsmanager.GetSecretValue",
                    authorization=AWS_AUTH)))
            cases.append(("floor (raw asyncio)", lambda c: wrk(floor_url, gsv, c, args.duration)))

            results: dict[tuple[str, int], dict] = {}
            for name, run in cases:
                for connections in args.connections:
                    before = audited(info, admin) if name.startswith("lab") else 0
                    result = run(connections)
                    if name.startswith("lab"):
                        # +1: the audit read itself is audited
                        result["audited"] = audited(info, admin) - before - 1
                    results[(name, connections)] = result
                    print(f"  {name:24s} c={connections}: {result['rps']:>9.0f} req/s", flush=True)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(10)
            lab_runtime.down(settings)

    print()
    print(f"{'target':24s} {'conns':>5s} {'req/s':>9s} {'p50':>8s} {'p99':>8s} {'non-2xx':>8s} {'audited':>8s}")
    for (name, connections), r in results.items():
        print(f"{name:24s} {connections:>5d} {r['rps']:>9.0f} {r['p50']:>8s} {r['p99']:>8s} {r['non2xx']:>8d} "
              f"{str(r.get('audited', '-')):>8s}")
    print()
    problems = []
    for (name, connections), r in results.items():
        if r["non2xx"] or r["socket_errors"]:
            problems.append(f"{name} c={connections}: {r['non2xx']} non-2xx, socket errors {r['socket_errors'] or 'none'}")
        # wrk does not count the requests still in flight when it stops (at most one per connection)
        if "audited" in r and not r["requests"] <= r["audited"] <= r["requests"] + connections:
            problems.append(f"{name} c={connections}: {r['requests']} requests but {r['audited']} audit entries")
    for connections in args.connections:
        lab_gsv = results[("lab get-secret-value", connections)]["rps"]
        lab_auth = results[("lab /auth (API key)", connections)]["rps"]
        floor_rps = results[("floor (raw asyncio)", connections)]["rps"]
        line = f"c={connections}: get-secret-value = {lab_gsv / floor_rps:.2f}x floor"
        if ("moto GetSecretValue", connections) in results:
            moto_rps = results[("moto GetSecretValue", connections)]["rps"]
            line += f", {lab_gsv / moto_rps:.1f}x moto; /auth = {lab_auth / moto_rps:.1f}x moto"
        line += f", /auth = {lab_auth / floor_rps:.2f}x floor"
        print(line)
    if problems:
        print("\nPROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    print("every lab request answered 2xx and was audited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
