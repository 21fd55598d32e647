"""Records the workflow histories that tests/test_replay.py replays.

    .venv/bin/python -m tests.histories.record               # every scenario
    .venv/bin/python -m tests.histories.record payments ...  # only these scenarios

Each scenario runs the real paths on a fresh Temporal dev server with a worker, SQLite and the
sandbox panels, providers and Telegram, then saves every run it names as
`tests/histories/<name>.json` (`fetch_history().to_json()`) and its workflow ID in `index.json`.
A history holding any secret the run used (test keys and tokens) is refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from pathlib import Path

from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from tests.conftest import NAMESPACE
from tests.histories import (
    access_cases,
    broadcast_cases,
    operator_cases,
    payment_cases,
    proxy_cases,
    purpose_cases,
)
from tests.histories.recorder import MANIFEST, Recorder, RecordingError, Scenario

SCENARIOS: list[Scenario] = (
    access_cases.SCENARIOS
    + payment_cases.SCENARIOS
    + broadcast_cases.SCENARIOS
    + purpose_cases.SCENARIOS
    + proxy_cases.SCENARIOS
    + operator_cases.SCENARIOS
)


def declared_histories() -> set[str]:
    return {name for scenario in SCENARIOS for name in scenario.histories}


def load_manifest() -> dict[str, str]:
    return dict(json.loads(MANIFEST.read_text())) if MANIFEST.exists() else {}


def write_manifest(saved: dict[str, str]) -> None:
    # Histories of scenarios not re-run stay; names no scenario declares any more go.
    kept = {name: wid for name, wid in load_manifest().items() if name in declared_histories()}
    MANIFEST.write_text(json.dumps(dict(sorted((kept | saved).items())), indent=2) + "\n")


async def record(names: list[str]) -> dict[str, str]:
    known = {scenario.name: scenario for scenario in SCENARIOS}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise RecordingError(f"unknown scenario(s) {unknown}; known: {sorted(known)}")
    chosen = [known[name] for name in names] if names else SCENARIOS
    server = EmbeddedTemporal(port=free_port(), ui_port=None, namespace=NAMESPACE)
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="histories-") as workdir:
            recorder = Recorder(await connect(server.address, NAMESPACE), Path(workdir))
            try:
                for scenario in chosen:
                    await recorder.run(scenario)
            finally:
                await recorder.close()
    finally:
        server.stop()
    return recorder.saved


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Failed attempts (a host down on purpose) are part of the story, not news.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    saved = asyncio.run(record(sys.argv[1:]))
    write_manifest(saved)
    print(f"{len(saved)} histories saved; replay them with: .venv/bin/pytest tests/test_replay.py")


if __name__ == "__main__":
    main()
