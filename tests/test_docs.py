"""Documentation that must not drift: settings in README, events in the protocol doc."""

from pathlib import Path

from console.events import EVENTS, QUEUE_EVENTS
from console.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_live_event_is_documented():
    protocol = (ROOT / "docs" / "live-protocol.md").read_text(encoding="utf-8")
    missing = [name for name in {**EVENTS, **QUEUE_EVENTS} if f"`{name}`" not in protocol]
    assert not missing, f"events missing from docs/live-protocol.md: {missing}"


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/run --demo" in readme
    assert "bash scripts/test" in readme
    assert "bash scripts/test" in (ROOT / ".ci" / "run").read_text()
