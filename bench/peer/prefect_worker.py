# mypy: ignore-errors
"""Runs Prefect jobs on request; started with the Prefect venv's python.

Reads one JSON command per line on stdin, answers one line ``@@BENCH <json>``
on stdout (anything else on stdout/stderr is Prefect's own output).  The
environment chooses the configuration (``PREFECT_API_URL`` and the settings
the harness sets); ``BENCH_FLAVOUR`` = ``sync`` (a user's first flow: sync
flow, sync tasks) or ``async`` (async flow and tasks: the fastest path).
"""

import asyncio
import json
import os
import sys
import time

from prefect import flow, get_client, task

FLAVOUR = os.environ.get("BENCH_FLAVOUR", "sync")


@flow
def trivial_sync():
    return 1


@flow
async def trivial_async():
    return 1


@task
def step_sync(i):
    return i


@task
async def step_async(i):
    return i


@flow
def many_sync(n):
    for i in range(n):
        step_sync(i)
    return n


@flow
async def many_async(n):
    for i in range(n):
        await step_async(i)
    return n


def reply(data):
    sys.stdout.write("@@BENCH " + json.dumps(data) + "\n")
    sys.stdout.flush()


async def run_flows(n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        if FLAVOUR == "async":
            await trivial_async()
        else:
            await asyncio.to_thread(trivial_sync)
        times.append((time.perf_counter() - started) * 1000.0)
    return {"ms": times}


async def run_tasks(n):
    started = time.perf_counter()
    if FLAVOUR == "async":
        state = await many_async(n, return_state=True)
    else:
        state = await asyncio.to_thread(many_sync, n, return_state=True)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "flow_run_id": str(state.state_details.flow_run_id)}


async def count_task_runs(flow_run_id):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = []
        offset = 0
        while True:
            page = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
                limit=200,
                offset=offset,
            )
            runs.extend(page)
            if len(page) < 200:
                break
            offset += len(page)
    states = {}
    for run in runs:
        name = run.state.type.value if run.state else "NONE"
        states[name] = states.get(name, 0) + 1
    return {"count": len(runs), "states": states}


async def read_flow_runs(n):
    times = []
    async with get_client() as client:
        await client.read_flow_runs(limit=50)  # warm the connection
        for _ in range(n):
            started = time.perf_counter()
            runs = await client.read_flow_runs(limit=50)
            times.append((time.perf_counter() - started) * 1000.0)
    return {"ms": times, "returned": len(runs)}


async def seed_flow_runs(n):
    from prefect.states import Completed

    started = time.perf_counter()
    async with get_client() as client:
        for _ in range(n):
            await client.create_flow_run(trivial_async, state=Completed())
    return {"seconds": time.perf_counter() - started}


async def count_flow_runs():
    async with get_client() as client:
        return {"count": await client.count_flow_runs()}


async def main():
    loop = asyncio.get_running_loop()
    reply({"ready": True, "flavour": FLAVOUR})
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "flows":
                result = await run_flows(command["n"])
            elif op == "tasks":
                result = await run_tasks(command["n"])
            elif op == "count_task_runs":
                result = await count_task_runs(command["flow_run_id"])
            elif op == "read_flow_runs":
                result = await read_flow_runs(command["n"])
            elif op == "seed_flow_runs":
                result = await seed_flow_runs(command["n"])
            elif op == "count_flow_runs":
                result = await count_flow_runs()
            elif op == "exit":
                reply({"bye": True})
                return
            else:
                result = {"error": f"unknown op {op}"}
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        reply(result)


if __name__ == "__main__":
    asyncio.run(main())
