"""The serving process's garbage collector (console/process_tuning.py), checked
in a child process so this test run's own collector is left as it is."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_serving_process_freezes_what_startup_loaded_and_collects_young_objects_less_often():
    code = (
        "import gc, json\n"
        "from console.process_tuning import GEN0_THRESHOLD, settle_serving_process\n"
        "before = [gc.get_threshold(), gc.get_freeze_count()]\n"
        "settle_serving_process()\n"
        "print(json.dumps({'before': before, 'after': [gc.get_threshold(), gc.get_freeze_count()], 'gen0': GEN0_THRESHOLD, 'on': gc.isenabled()}))\n"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    (threshold_before, frozen_before), (threshold_after, frozen_after) = out["before"], out["after"]
    assert frozen_before == 0 and frozen_after > 10_000  # the modules loaded at startup are frozen
    assert threshold_after[0] == out["gen0"] > threshold_before[0]
    assert threshold_after[1:] == threshold_before[1:]
    assert out["on"]  # collected less often, never switched off


def test_run_py_and_the_wsgi_module_settle_the_serving_process():
    assert "settle_serving_process()" in (ROOT / "run.py").read_text()
    assert "settle_serving_process()" in (ROOT / "console" / "wsgi.py").read_text()
