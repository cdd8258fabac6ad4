"""Run the hostile-user suite (tests/test_fuzz.py) in full and count what happened.

    python scripts/fuzz.py [--examples N] [--log FILE] [pytest arguments ...]

Sets ``ILAC_FUZZ_EXAMPLES`` (default 500 examples per test, eight times that for the API
test: about 6,000 distinct bad inputs, a few minutes) and ``ILAC_FUZZ_LOG``, runs pytest on
tests/test_fuzz.py, then prints, per entry point and in total, how many cases were
accepted or refused cleanly and how many failed (traceback or internal error, unclean
message, hang, leftover files, silent acceptance), followed by the distinct failures with
the shortest input of each. A case that never logged its outcome (the process died, e.g.
killed by faulthandler in a C-level hang) counts as a hang. The exit status is pytest's.
"""

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATEGORIES = {"accept": "clean accept", "refuse": "clean refusal",
              "traceback": "traceback/internal error", "unclean": "unclean message",
              "hang": "hang", "leftover": "leftover", "silent": "silent acceptance"}


def signature(detail):
    """A failure's message without its numbers, quoted values and internal-error preamble
    (as tests/test_fuzz.py groups them)."""
    detail = detail.split("shows the traceback): ")[-1]
    return re.sub(r"'[^']*'|\"[^\"]*\"|[-+]?\d[\d.eE+-]*", "#", detail)[:100]


def read_log(path):
    """The last record of every case in the JSON-lines log (a lone ``pending``: a hang)."""
    cases = {}
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        cases[record["case"]] = record
    for record in cases.values():
        if record["outcome"] == "pending":
            record.update(outcome="hang", detail="the process died during the case")
    return list(cases.values())


def report(records, seconds):
    """Print the counts per entry point and category, then the distinct failures."""
    counts = collections.Counter((r["entry"], r["outcome"]) for r in records)
    entries = sorted({r["entry"] for r in records})
    width = max(map(len, entries + ["total"]))
    print(f"\n{len(records)} distinct cases in {seconds:.0f} s\n")
    print(f"{'entry point':{width}}  " + "  ".join(f"{c:>9}" for c in CATEGORIES))
    for entry in entries + ["total"]:
        row = [sum(n for (e, o), n in counts.items() if o == c and entry in (e, "total"))
               for c in CATEGORIES]
        print(f"{entry:{width}}  " + "  ".join(f"{n:>9}" for n in row))
    print()
    for key, label in CATEGORIES.items():
        print(f"{label:26} {sum(n for (_, o), n in counts.items() if o == key):>6}")
    failures = collections.defaultdict(list)
    for r in records:
        if r["outcome"] not in ("accept", "refuse"):
            failures[(r["outcome"], r["entry"], signature(r["detail"]))].append(r)
    print(f"\n{len(failures)} distinct failures")
    for (outcome, entry, _), group in sorted(failures.items()):
        r = min(group, key=lambda r: len(r["input"]))
        print(f"- {CATEGORIES[outcome]}, {entry} ({len(group)}x): {r['detail']}\n"
              f"    input: {r['input'][:300]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=500, help="examples per test")
    parser.add_argument("--log", help="JSON-lines log of every case (default: a temporary "
                                      "file)")
    args, pytest_args = parser.parse_known_args(argv)
    log = Path(args.log) if args.log else Path(tempfile.mkstemp(".jsonl", "ilac-fuzz-")[1])
    log.write_text("")
    env = {**os.environ, "ILAC_FUZZ_EXAMPLES": str(args.examples), "ILAC_FUZZ_LOG": str(log)}
    t0 = time.perf_counter()
    code = subprocess.call([sys.executable, "-m", "pytest", "tests/test_fuzz.py", "-q",
                            "-p", "no:cacheprovider", *pytest_args], cwd=ROOT, env=env)
    report(read_log(log), time.perf_counter() - t0)
    print(f"\nlog: {log}")
    return code


if __name__ == "__main__":
    sys.exit(main())
