"""The README's set-up command on a machine like a stock Debian server: only
Debian's python3 on PATH (no `python`), whose pip refuses system-wide installs
(PEP 668). scripts/run must make its virtual environment and run the console
from it."""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def test_scripts_run_makes_and_uses_a_virtual_environment_with_only_python3(tmp_path):
    assert shutil.which("python3", path=SYSTEM_PATH), "this test needs the system's python3 (apt-get install python3)"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYENV_VERSION")}
    env.update(PATH=SYSTEM_PATH, CONSOLE_VENV=str(venv))
    done = subprocess.run(["bash", "scripts/run", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage: run.py" in done.stdout and "--db" in done.stdout
    assert (venv / "bin" / "python").exists() and "Created the virtual environment" in done.stderr
    # the packages are in the environment, not in the system Python
    found = subprocess.run([str(venv / "bin" / "python"), "-c", "import flask_socketio, sys; print(sys.prefix)"], capture_output=True, text=True, env=env)
    assert found.returncode == 0 and found.stdout.strip() == str(venv)
    # a second run reuses it
    again = subprocess.run(["bash", "scripts/run", "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "Created the virtual environment" not in again.stderr
