#!/usr/bin/env python3
"""Check that storyclust keeps every group of exact duplicates together.

    python3 bench/exact_dups.py GROUPS.json STORYCLUST.json

GROUPS.json is a list of groups, each a list of file names (such as Reuters-21578's
derived_exact_dup_groups.json); STORYCLUST.json is the output of
`storyclust --format json`. Files are compared by base name. Prints how many groups
sit whole inside one story, lists every group that does not (with the story of each
member, "-" for none), and exits 1 if any group is split (2 on a usage error).
"""
import json
import os
import sys


def story_of(path):
    """Map each document's base name to the id of the story that holds it."""
    with open(path, encoding="utf-8") as fh:
        report = json.load(fh)
    story = {}
    for s in report["stories"]:
        for doc in s["documents"]:
            story[os.path.basename(doc["path"])] = s["id"]
    return story


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as fh:
        groups = json.load(fh)
    story = story_of(sys.argv[2])
    split = []
    for group in groups:
        ids = [story.get(os.path.basename(f)) for f in group]
        if ids[0] is None or len(set(ids)) > 1:
            split.append((group, ids))
    print("%d of %d exact-duplicate groups are whole in one story" % (len(groups) - len(split), len(groups)))
    for group, ids in split:
        print("split: " + ", ".join("%s (%s)" % (f, i or "-") for f, i in zip(group, ids)))
    return 1 if split else 0


if __name__ == "__main__":
    sys.exit(main())
