"""Where the tests find the checkout and their recorded fixtures, whatever their layer."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
