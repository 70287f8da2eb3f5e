"""What the benchmarks share: starting and stopping a server they test, and
the /proc readings and percentiles they report."""

import http.client
import json
import math
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wait_http(proc, port, path, headers, log_path, timeout=60):
    """Wait until GET ``path`` answers 200; fail with the server's log if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{Path(log_path).read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path, headers=headers)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer on port {port} within {timeout}s:\n{Path(log_path).read_text()[-3000:]}")


def stop_process(proc):
    """Terminate a subprocess, killing it if it does not go within 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- what several benchmarks measure with ------------------------------------


def free_port():
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(env, *args):
    """``python run.py ARGS`` (an operator command); its stdout, or an error with its output."""
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"run.py {' '.join(args)} failed ({out.returncode}): {out.stderr or out.stdout}")
    return out.stdout.strip()


def proc_cpu_s(pid):
    """User + system CPU seconds a process has used so far (all its threads), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def proc_status(pid):
    """VmRSS and VmHWM (KiB) and Threads of a process, from /proc/PID/status; {} if it is gone."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def machine_cpu_s():
    """(busy, total) CPU seconds of the whole machine so far, all cores (from /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / tick, sum(fields[:8]) / tick


def raise_fd_limit(needed):
    """Raise this process's open-file limit towards ``needed`` (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = soft
    if soft != resource.RLIM_INFINITY and soft < needed:
        new = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return {"soft_before": before, "soft": soft, "hard": hard, "needed": needed, "enough": soft == resource.RLIM_INFINITY or soft >= needed}


def pct(sorted_values, q):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q / 100 * len(sorted_values)) - 1)]


def summary_ms(values_s):
    """n, p50, p95, p99, max and mean in milliseconds of durations given in seconds."""
    v = sorted(values_s)

    def ms(x):
        return None if x is None else round(x * 1000, 2)

    return {
        "n": len(v),
        "p50_ms": ms(pct(v, 50)),
        "p95_ms": ms(pct(v, 95)),
        "p99_ms": ms(pct(v, 99)),
        "max_ms": ms(v[-1]) if v else None,
        "mean_ms": ms(statistics.fmean(v)) if v else None,
    }


def child_pids(pid):
    """The processes whose parent is ``pid`` (from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry))
    return children


def start_console(db_path, env, log_path, server="run", threads=1000, port=None):
    """Serve the console on a free loopback port, as README says: ``python run.py``
    (server="run") or ``gunicorn -w 1 --threads N console.wsgi:app`` (server="gunicorn").

    Returns (Popen, port, pid of the process that serves: gunicorn's one worker).
    Waits until the port accepts connections; the caller then waits for HTTP.
    """
    port = port or free_port()
    if server == "run":
        cmd = [sys.executable, str(ROOT / "run.py"), "--db", str(db_path), "--port", str(port)]
    elif server == "gunicorn":
        env = {**env, "CONSOLE_DB": str(db_path)}
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--worker-connections",
            str(max(1000, threads + 400)),
            "--no-control-socket",
            "--graceful-timeout",
            "5",
            "console.wsgi:app",
        ]
    else:
        raise ValueError(f"server must be 'run' or 'gunicorn', not {server!r}")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    serving_pid = proc.pid
    if server == "gunicorn":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            workers = child_pids(proc.pid)
            if workers:
                serving_pid = workers[0]
                break
            time.sleep(0.1)
    return proc, port, serving_pid


def start_redis(log_path):
    """A throw-away redis-server on a free loopback port (no persistence): (Popen, redis:// URL)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}: {Path(log_path).read_text()[-1000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    stop_process(proc)
    raise RuntimeError(f"redis-server did not listen on port {port} within 20 s")


def finish(results_path, res, report, workdir, keep):
    """Write the results as JSON, print the report, and remove the working
    folder unless ``keep`` (then say where it is)."""
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(res, indent=2, ensure_ascii=False))
    report(res)
    if keep:
        print(f"Kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
