"""The serving process's thread switch interval and garbage collector
(console/process_tuning.py), checked in a child process so this test run's
own are left as they are."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_serving_process_freezes_what_startup_loaded_and_collects_young_objects_less_often():
    code = (
        "import gc, json\n"
        "from console.process_tuning import GEN0_THRESHOLD, settle_serving_process\n"
        "import sys\n"
        "before = [gc.get_threshold(), gc.get_freeze_count()]\n"
        "settle_serving_process(35)\n"
        "print(json.dumps({'before': before, 'after': [gc.get_threshold(), gc.get_freeze_count()], 'gen0': GEN0_THRESHOLD, 'on': gc.isenabled(), "
        "'switch': sys.getswitchinterval()}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    (threshold_before, frozen_before), (threshold_after, frozen_after) = out["before"], out["after"]
    assert frozen_before == 0 and frozen_after > 10_000  # the modules loaded at startup are frozen
    assert threshold_after[0] == out["gen0"] > threshold_before[0]
    assert threshold_after[1:] == threshold_before[1:]
    assert out["on"]  # collected less often, never switched off
    assert abs(out["switch"] - 0.035) < 1e-9  # SERVER_SWITCH_INTERVAL_MS, in seconds


def test_run_py_and_the_wsgi_module_settle_the_serving_process():
    """Each calls it (a call in the code, not the name in a comment), with the setting."""
    for path in (ROOT / "run.py", ROOT / "console" / "wsgi.py"):
        calls = [
            node
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "settle_serving_process"
        ]
        assert len(calls) == 1, path
        assert "SERVER_SWITCH_INTERVAL_MS" in ast.unparse(calls[0].args[0]), path
