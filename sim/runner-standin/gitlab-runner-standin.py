#!/usr/bin/env python3
"""A stand-in for gitlab-runner's *process behaviour* on pifleet sim nodes.

It is not a runner and runs no jobs. It does what pifleet's runner-manager
relies on a real gitlab-runner doing:
  * reads /etc/gitlab-runner/config.toml, and rereads it when it changes
    (gitlab-runner checks every 3 s) or on SIGHUP;
  * calls POST /api/v4/runners/verify for every [[runners]] token with the
    node's system_id, so GitLab sees the runner as contacted (online);
  * on SIGQUIT stops "taking jobs" and exits only when its running jobs have
    finished (graceful shutdown); on SIGTERM/SIGINT it exits at once (abort).
A real runner knows its jobs because it runs them; the stand-in asks GitLab
(GET /runners/:id/jobs?status=running) with a read-only token `sim up`
installs in /etc/gitlab-runner-standin/jobs-token. Tokens are never logged.
"""
import hashlib
import json
import os
import signal
import sys
import time
import tomllib
import urllib.error
import urllib.request

CONFIG = os.environ.get("CONFIG_FILE", "/etc/gitlab-runner/config.toml")
SYSTEM_ID_FILE = os.path.join(os.path.dirname(CONFIG), ".runner_system_id")
JOBS_TOKEN_FILE = "/etc/gitlab-runner-standin/jobs-token"

state = {"quit": False, "reload": False}


def log(message):
    print(message, flush=True)


def system_id():
    try:
        with open(SYSTEM_ID_FILE) as f:
            value = f.read().strip()
            if value:
                return value
    except FileNotFoundError:
        pass
    with open("/etc/machine-id") as f:
        digest = hashlib.sha256(f.read().strip().encode()).hexdigest()
    value = "s_" + digest[:12]
    os.makedirs(os.path.dirname(SYSTEM_ID_FILE), mode=0o700, exist_ok=True)
    with open(SYSTEM_ID_FILE, "w") as f:
        f.write(value + "\n")
    return value


def load_config():
    try:
        with open(CONFIG, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        return 3, []
    except tomllib.TOMLDecodeError as e:
        log(f"config.toml is not valid TOML ({e.__class__.__name__}); keeping the previous config")
        return None
    return int(doc.get("check_interval") or 3), list(doc.get("runners", []))


def request(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, OSError) as e:
        return 0, str(getattr(e, "reason", e))


def verify(runners, sid):
    for r in runners:
        status, _ = request("POST", f"{r['url'].rstrip('/')}/api/v4/runners/verify", {"token": r.get("token", ""), "system_id": sid})
        if status != 200:
            log(f"runner {r.get('id')} ({r.get('name')}): verify answered {status}")


def running_jobs(runners):
    try:
        with open(JOBS_TOKEN_FILE) as f:
            token = f.read().strip()
    except FileNotFoundError:
        return 0
    total = 0
    for r in runners:
        status, jobs = request("GET", f"{r['url'].rstrip('/')}/api/v4/runners/{r.get('id')}/jobs?status=running&per_page=100", headers={"private-token": token})
        if status == 200 and isinstance(jobs, list):
            total += len(jobs)
    return total


def main():
    signal.signal(signal.SIGQUIT, lambda *_: state.update(quit=True))
    signal.signal(signal.SIGHUP, lambda *_: state.update(reload=True))
    signal.signal(signal.SIGTERM, lambda *_: (log("SIGTERM: aborting jobs and exiting"), sys.exit(0)))
    sid = system_id()
    loaded = load_config() or (3, [])
    interval, runners = loaded
    mtime = os.path.getmtime(CONFIG) if os.path.exists(CONFIG) else 0
    log(f"started: system_id {sid}, {len(runners)} runner(s)")
    next_verify = 0.0
    while True:
        current = os.path.getmtime(CONFIG) if os.path.exists(CONFIG) else 0
        if state["reload"] or current != mtime:
            state["reload"] = False
            mtime = current
            fresh = load_config()
            if fresh is not None:
                interval, runners = fresh
                log(f"config reloaded: {len(runners)} runner(s)")
                next_verify = 0.0
        if state["quit"]:
            n = running_jobs(runners)
            if n == 0:
                log("graceful shutdown: no running jobs, exiting")
                return 0
            log(f"graceful shutdown: waiting for {n} running job(s)")
            time.sleep(1)
            continue
        if time.monotonic() >= next_verify:
            verify(runners, sid)
            next_verify = time.monotonic() + interval
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
