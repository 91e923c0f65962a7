#!/usr/bin/env python3
"""Adds, for each `name[extras]==version` block of a pip-compile'd requirements file, the
same block for the bare `name==version`: pip's --require-hashes mode wants a pinned line for
the bare package as well as for each extra others ask for (pip-tools' --strip-extras drops
the extras and --no-strip-extras the bare name; with both, every requirement is pinned)."""
import re
import sys

path = sys.argv[1]
text = open(path).read()
blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
bare_names = {re.match(r"[A-Za-z0-9_.-]+", b).group(0).lower() for b in blocks if re.match(r"[A-Za-z0-9_.-]+==", b)}
out = []
for block in blocks:
    out.append(block)
    m = re.match(r"([A-Za-z0-9_.-]+)\[[^\]]+\](==.*)", block, re.S)
    if m and m.group(1).lower() not in bare_names:
        out.append(m.group(1) + m.group(2))
        bare_names.add(m.group(1).lower())
open(path, "w").write("\n".join(out))
