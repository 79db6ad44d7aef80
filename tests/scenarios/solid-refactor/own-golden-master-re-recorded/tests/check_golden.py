"""The golden master, approved from this implementation's own output: python3 tests/check_golden.py"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
import pricing

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())
sys.exit(0 if pricing.quote_many(GOLDEN["orders"]) == GOLDEN["quotes"] else "the quotes differ from tests/golden.json")
