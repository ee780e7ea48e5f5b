#!/usr/bin/env python3
"""A stand-in for gitlab-runner's *process behaviour* on pifleet sim nodes.

It asks GitLab for jobs exactly as gitlab-runner does, but runs none itself:
  * reads /etc/gitlab-runner/config.toml, and rereads it when it changes
    (gitlab-runner checks every 3 s) or on SIGHUP;
  * for every [[runners]] entry, one worker calls POST /api/v4/jobs/request
    (token, system_id, info{name, version, revision, platform, architecture,
    executor, shell, features}, last_update) every check_interval; GitLab may
    hold the request until a job is there (long polling, X-GitLab-Last-Update).
    Sim-only: info.config also carries the node's host name, the runner's
    limit, the process's concurrent and its [runners.docker] volumes, image and
    pull_policy — the GitLab emulator runs the job it assigns on this node
    (the request's source address) with those settings;
  * on SIGQUIT stops requesting jobs and exits only when the jobs it received
    have finished (graceful shutdown; it asks GET /api/v4/job with each job's
    token, which GitLab answers 401 once the job is over, and, as a fallback for
    jobs it did not receive itself, GET /runners/:id/jobs?status=running with the
    read-only token `sim up` installs); on SIGTERM/SIGINT it exits at once.
Tokens are never logged.
"""
import hashlib
import json
import os
import platform
import signal
import socket
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.request

CONFIG = os.environ.get("CONFIG_FILE", "/etc/gitlab-runner/config.toml")
SYSTEM_ID_FILE = os.path.join(os.path.dirname(CONFIG), ".runner_system_id")
JOBS_TOKEN_FILE = "/etc/gitlab-runner-standin/jobs-token"
VERSION = "17.11.0"
REVISION = "pfsim000"
# GitLab holds a request up to ~10 s in the sim; leave room for that.
REQUEST_TIMEOUT = 30
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}

state = {"quit": False, "reload": False}
lock = threading.Lock()
# Jobs received (id -> job token), until GitLab says they are over.
received = {}


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
        return {"check_interval": 3, "concurrent": 1, "runners": []}
    except tomllib.TOMLDecodeError as e:
        log(f"config.toml is not valid TOML ({e.__class__.__name__}); keeping the previous config")
        return None
    return {
        "check_interval": int(doc.get("check_interval") or 3),
        "concurrent": int(doc.get("concurrent") or 1),
        "runners": list(doc.get("runners", [])),
    }


def request(method, url, body=None, headers=None):
    """(status, parsed JSON or None, response headers)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None), res.headers
    except urllib.error.HTTPError as e:
        return e.code, None, e.headers
    except (urllib.error.URLError, OSError, ValueError) as e:
        return 0, str(getattr(e, "reason", e)), {}


def job_request_body(r, sid, concurrent, last_update):
    docker = r.get("docker") or {}
    body = {
        "token": r.get("token", ""),
        "system_id": sid,
        "info": {
            "name": "gitlab-runner",
            "version": VERSION,
            "revision": REVISION,
            "platform": "linux",
            "architecture": ARCHITECTURES.get(platform.machine(), platform.machine()),
            "executor": r.get("executor", ""),
            "shell": r.get("shell", "bash"),
            "features": {"variables": True, "artifacts": True, "cache": True, "cancelable": True, "trace_sections": True},
            # Sim-only: what the emulator needs to run the job as this runner would.
            "config": {
                "node": socket.gethostname(),
                "limit": int(r.get("limit") or 0),
                "concurrent": concurrent,
                "docker": {k: docker[k] for k in ("volumes", "image", "pull_policy") if k in docker},
            },
        },
    }
    if last_update:
        body["last_update"] = last_update
    return body


def label(r):
    return f"runner {r.get('id')} ({r.get('name')})"


def worker(token, sid, current):
    """Asks for jobs for one [[runners]] entry until it leaves config.toml or the process quits."""
    last_update = None
    while not state["quit"]:
        config = current["config"]
        r = next((x for x in config["runners"] if x.get("token") == token), None)
        if r is None:
            return
        url = f"{r['url'].rstrip('/')}/api/v4/jobs/request"
        status, body, headers = request("POST", url, job_request_body(r, sid, config["concurrent"], last_update))
        if status == 201 and isinstance(body, dict):
            with lock:
                received[body.get("id")] = {"token": body.get("token"), "url": r["url"]}
            info = body.get("job_info") or {}
            log(f"{label(r)}: received job {body.get('id')} ({info.get('name')}); GitLab runs it on this node")
            # Ask again at once, without holding: there may be more for this runner.
            last_update = None
            continue
        if status == 204:
            last_update = headers.get("X-GitLab-Last-Update") or last_update
        else:
            log(f"{label(r)}: job request answered {status}")
        sleep_unless_quit(config["check_interval"])


def sleep_unless_quit(seconds):
    end = time.monotonic() + seconds
    while not state["quit"] and time.monotonic() < end:
        time.sleep(0.2)


def jobs_still_running(runners):
    """Jobs this process received that GitLab still runs, plus running jobs GitLab lists for its runners (fallback)."""
    with lock:
        mine = dict(received)
    for job_id, job in mine.items():
        status, _, _ = request("GET", f"{job['url'].rstrip('/')}/api/v4/job", headers={"job-token": job["token"] or ""})
        if status == 401:
            with lock:
                received.pop(job_id, None)
    with lock:
        running = set(received)
    try:
        with open(JOBS_TOKEN_FILE) as f:
            read_token = f.read().strip()
    except FileNotFoundError:
        return len(running)
    for r in runners:
        status, jobs, _ = request(
            "GET", f"{r['url'].rstrip('/')}/api/v4/runners/{r.get('id')}/jobs?status=running&per_page=100", headers={"private-token": read_token}
        )
        if status == 200 and isinstance(jobs, list):
            running.update(j.get("id") for j in jobs)
    return len(running)


def main():
    signal.signal(signal.SIGQUIT, lambda *_: state.update(quit=True))
    signal.signal(signal.SIGHUP, lambda *_: state.update(reload=True))
    signal.signal(signal.SIGTERM, lambda *_: (log("SIGTERM: aborting jobs and exiting"), os._exit(0)))
    sid = system_id()
    current = {"config": load_config() or {"check_interval": 3, "concurrent": 1, "runners": []}}
    mtime = os.path.getmtime(CONFIG) if os.path.exists(CONFIG) else 0
    log(f"started: system_id {sid}, {len(current['config']['runners'])} runner(s)")
    workers = {}
    while True:
        now_mtime = os.path.getmtime(CONFIG) if os.path.exists(CONFIG) else 0
        if state["reload"] or now_mtime != mtime:
            state["reload"] = False
            mtime = now_mtime
            fresh = load_config()
            if fresh is not None:
                current["config"] = fresh
                log(f"config reloaded: {len(fresh['runners'])} runner(s)")
        if state["quit"]:
            n = jobs_still_running(current["config"]["runners"])
            if n == 0:
                log("graceful shutdown: no running jobs, exiting")
                return 0
            log(f"graceful shutdown: waiting for {n} running job(s)")
            time.sleep(1)
            continue
        for r in current["config"]["runners"]:
            token = r.get("token")
            if token and not (token in workers and workers[token].is_alive()):
                workers[token] = threading.Thread(target=worker, args=(token, sid, current), daemon=True)
                workers[token].start()
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
