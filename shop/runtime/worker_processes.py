"""`vpnshop up`'s workers in processes of their own (WORKER_PROCESSES), beside the process serving the
API and the bots. A shop process runs its Python on one core at a time; with the workers apart, the
payments' steps, the webhooks and the bots use every core of the machine (docs/performance.md).
Each worker process joins the embedded Temporal server like a scaled `vpnshop worker`, and counts its
panel requests into a directory the API's `/metrics` adds to its own counters."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from shop.context import AppContext
from shop.metrics.counters import worker_counters
from shop.runtime.temporal import die_with_parent

log = logging.getLogger("vpnshop")

# prometheus-client's multiprocess mode, read by the library when a process imports it.
COUNTERS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class WorkerProcessExited(RuntimeError):
    pass


def _spawn(address: str, counters: Path, number: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, COUNTERS_VARIABLE: str(counters)}
    # Same process group as `up`: a Ctrl-C in the terminal reaches the workers too, and each stops
    # as `vpnshop worker` does. A killed `up` takes its Temporal server with it, so nothing is left
    # for a worker to finish: it is killed too (the steps it ran are retried by the next start). The
    # parent-death signal follows the thread that spawns the child: this runs on the main thread's
    # event loop.
    return subprocess.Popen(
        [sys.executable, "-m", "shop.runtime.worker_processes", address, str(number)],
        env=env,
        preexec_fn=functools.partial(die_with_parent, signal.SIGKILL),
    )


def _stop(processes: list[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout)  # a worker finishes its running steps first (10 s grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def run_worker_processes(ctx: AppContext, stop: asyncio.Event) -> None:
    """WORKER_PROCESSES workers until `stop`. One that exits meanwhile brings the shop down, as any
    of its parts does: a shop whose payments no longer progress must not go on taking them."""
    settings = ctx.settings
    counters = worker_counters(settings.data_dir)
    counters.mkdir(parents=True)
    address = ctx.require_temporal().service_client.config.target_host
    processes = [_spawn(address, counters, n) for n in range(1, settings.worker_process_count + 1)]
    log.info("%d worker processes started", len(processes))
    exited = [asyncio.create_task(asyncio.to_thread(process.wait)) for process in processes]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([*exited, stopping], return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():
            codes = [process.returncode for process in processes if process.returncode is not None]
            raise WorkerProcessExited(f"a worker process exited with code {codes[0]}")
    finally:
        stopping.cancel()
        await asyncio.to_thread(_stop, processes)
        await asyncio.gather(*exited)


def main(argv: list[str]) -> int:
    """One worker process of `up`: `python -m shop.runtime.worker_processes <Temporal address> <n>`;
    its log lines say `[worker n]`."""
    from shop.runtime.cli import configure_logging, run_process
    from shop.runtime.processes import run_roles, run_worker
    from shop.settings import load_settings

    address, number = argv
    settings = load_settings(temporal_address=address)
    configure_logging(settings, f"[worker {number}]")
    try:
        run_process(run_roles(settings, [run_worker], migrate=False))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
