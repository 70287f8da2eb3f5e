"""What the benchmarks share: waiting for a run.py they started, and stopping it."""

import http.client
import subprocess
import time
from pathlib import Path


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
