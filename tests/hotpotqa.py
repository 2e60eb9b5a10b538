"""The shared HotpotQA files, for the tests that need them; they skip with the reason where they are absent."""

from pathlib import Path

import pytest

HOTPOTQA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa"

needs_hotpotqa = pytest.mark.skipif(not (HOTPOTQA_DIR / "corpus.jsonl").is_file(),
                                    reason=f"HotpotQA data not found at {HOTPOTQA_DIR}")
