"""Print `make mutate`'s score per module from mutmut's result files (mutants/*.meta).

A mutant counts as caught when a test failed, timed out or crashed with it; "survived" and
"no tests" are not caught. Exits 1 if any module lets more than 10% of its mutants survive.
"""

import json
import sys
from pathlib import Path

CAUGHT = {1, 3, 36, 24, -24, 152, 255, -11, -9, 37}
NOT_CAUGHT = {0, 33, 5}
TARGET = 0.10


def main(root: Path = Path("mutants")) -> int:
    worst = 0.0
    print(f"{'module':45} {'mutants':>7} {'caught':>6} {'left':>5} {'left %':>6}")
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        checked = [code for code in codes.values() if code is not None]
        if not checked:
            continue
        left = sum(code in NOT_CAUGHT for code in checked)
        caught = sum(code in CAUGHT for code in checked)
        share = left / len(checked)
        worst = max(worst, share)
        module = str(meta.relative_to(root)).removesuffix(".meta")
        print(f"{module:45} {len(checked):7} {caught:6} {left:5} {share:6.1%}")
    return 1 if worst > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
