#!/usr/bin/env python3
"""Sums a Spark event log by storyclust phase: tasks, task seconds, shuffle
bytes and records written, peak executor memory of the phase's tasks.

    python3 bench/spark_shuffle.py EVENT_LOG_FILE

The Spark job names each phase's jobs "storyclust PHASE" (setJobDescription),
so stages are attributed through their job's description.
"""

import json
import sys
from collections import OrderedDict, defaultdict


def main(path):
    stage_phase = {}
    phases = OrderedDict()
    sums = defaultdict(lambda: defaultdict(float))
    with open(path, encoding="utf-8") as f:
        for line in f:
            e = json.loads(line)
            kind = e.get("Event")
            if kind == "SparkListenerJobStart":
                desc = (e.get("Properties") or {}).get("spark.job.description") or "other"
                phase = desc.replace("storyclust ", "")
                phases.setdefault(phase, None)
                for sid in e.get("Stage IDs", []):
                    stage_phase[sid] = phase
            elif kind == "SparkListenerTaskEnd":
                phase = stage_phase.get(e.get("Stage ID"), "other")
                m = e.get("Task Metrics") or {}
                s = sums[phase]
                s["tasks"] += 1
                s["task_s"] += m.get("Executor Run Time", 0) / 1000.0
                w = m.get("Shuffle Write Metrics") or {}
                s["shuffle_bytes"] += w.get("Shuffle Bytes Written", 0)
                s["shuffle_records"] += w.get("Shuffle Records Written", 0)
                s["peak_mem"] = max(s["peak_mem"], m.get("Peak Execution Memory", 0))
    total = defaultdict(float)
    print("| phase | tasks | task s | shuffle written MB | shuffle records | peak task execution memory MB |")
    print("|---|---|---|---|---|---|")
    for phase in list(phases) + (["other"] if "other" in sums and "other" not in phases else []):
        s = sums.get(phase)
        if not s:
            continue
        for k in ("tasks", "task_s", "shuffle_bytes", "shuffle_records"):
            total[k] += s[k]
        total["peak_mem"] = max(total["peak_mem"], s["peak_mem"])
        print(
            f"| {phase} | {int(s['tasks'])} | {s['task_s']:.1f} | {s['shuffle_bytes'] / 1e6:.1f} "
            f"| {int(s['shuffle_records'])} | {s['peak_mem'] / 2**20:.0f} |"
        )
    print(
        f"| **total** | {int(total['tasks'])} | {total['task_s']:.1f} | {total['shuffle_bytes'] / 1e6:.1f} "
        f"| {int(total['shuffle_records'])} | {total['peak_mem'] / 2**20:.0f} |"
    )


if __name__ == "__main__":
    main(sys.argv[1])
