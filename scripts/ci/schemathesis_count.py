"""Counts the requests of a schemathesis NDJSON report: prints `PASSED FAILED` on stdout.

A request passes when every check run on its answer passed and the answer is not a 5xx; the
answers' status codes per operation go to stderr, to show how far the generated data got.
"""

import collections
import json
import sys

passed = failed = 0
statuses = collections.defaultdict(collections.Counter)
with open(sys.argv[1], encoding="utf-8") as report:
    for line in report:
        event = json.loads(line)
        scenario = event.get("ScenarioFinished")
        if not scenario:
            continue
        recorder = scenario.get("recorder") or {}
        checks = recorder.get("checks") or {}
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            statuses[recorder.get("label", "?")][status] += 1
            results = checks.get(case_id) or []
            ok = all(c.get("status") in ("success", "skip") for c in results)
            if status is None or status >= 500:
                ok = False
            if ok:
                passed += 1
            else:
                failed += 1
        # A scenario that errored has no interaction to count: count the error itself.
        if scenario.get("status") == "error" and not recorder.get("interactions"):
            failed += 1

for label in sorted(statuses):
    counts = " ".join(f"{s}:{n}" for s, n in sorted(statuses[label].items(), key=lambda kv: str(kv[0])))
    print(f"  {label:55} {counts}", file=sys.stderr)
print(passed, failed)
