"""Where a py-spy profile's samples go, by the library they land in (docs/performance.md).

    .venv/bin/python -m bench.profile_summary PROFILE.txt [PROFILE.txt ...]

Reads py-spy's raw (collapsed) output (`py-spy record -f raw`, as `bench.payments_bench --profile`
writes it): one line a stack, frames separated by `;`, then the sample count. Each sample is
charged to the first area found walking from the innermost frame outwards, so the shares add up
to 100 %; "workflow sandbox" counts the samples inside the sandbox's importer and runner, which is
where a workflow run's module imports happen. Samples of threads waiting (see WAITING) are left
out: profiles taken with `--gil` have none.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (area, substrings of a frame's file path), checked in this order for each frame.
AREAS: list[tuple[str, tuple[str, ...]]] = [
    ("workflow sandbox (imports, restrictions)", ("workflow_sandbox/",)),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("aiosqlite / sqlite3", ("aiosqlite/", "sqlite3/")),
    ("temporalio (SDK, bridge)", ("temporalio/",)),
    ("http (httpx, httpcore, h11)", ("httpx/", "httpcore/", "h11/", "anyio/")),
    ("aiogram", ("aiogram/", "aiohttp/")),
    ("api server (uvicorn, starlette, fastapi)", ("uvicorn/", "starlette/", "fastapi/")),
    ("QR code, images", ("qrcode/", "PIL/", "segno/")),
    ("shop code", ("/shop/", "/activities/", "/workflows/", "/bot/", "/api/", "/worker/", "/console/")),
    ("asyncio", ("asyncio/",)),
]


# Innermost frames of a thread that waits, which py-spy without `--gil` still samples: an
# aiosqlite connection's thread waiting for its next statement, an idle pool thread, a queue, a lock,
# a selector; and empty stacks (a thread outside Python).
WAITING = ("aiosqlite/core.py:59)", "futures/thread.py:81)", "queue.py", "threading.py", "selectors.py")


def area_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for area, marks in AREAS:
            if any(mark in frame for mark in marks):
                return area
    return "other (interpreter, stdlib)"


def summary(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = stack.split(";")
        if stack.strip() and samples.isdigit() and not any(mark in frames[-1] for mark in WAITING):
            counts[area_of(frames)] += int(samples)
    return counts


def main(paths: list[Path]) -> None:
    for path in paths:
        counts = summary(path)
        total = sum(counts.values()) or 1
        print(f"{path.name}: {total} samples")
        for area, samples in counts.most_common():
            print(f"  {samples / total:6.1%}  {area}")


if __name__ == "__main__":
    main([Path(arg) for arg in sys.argv[1:]])
