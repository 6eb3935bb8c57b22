"""Shared bits of the benchmarks: a cached demo city and peak-memory measurement."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


# The head of a script a benchmark runs in its own interpreter: the path to these scripts and
# `cpu()`, the CPU seconds of that interpreter and of the children it reaped (workers).
SUBPROCESS_PRELUDE = """
import json, os, pickle, resource, sys, threading, time
sys.path.insert(0, {here!r})
def cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
"""


def demo_city(name: str, *, kode: str, size: int | None, workers: int = 2) -> Path:
    """A demo city built once and reused (generation is not what we measure)."""
    from kkmp_sheets.demo import build_demo_city

    root = CACHE / name
    marker = root / ".complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        build_demo_city(root, kode=kode, size=size, workers=workers)
        marker.write_text(f"{time.perf_counter() - started:.1f}")
    return root


def fresh_copy(root: Path, name: str) -> Path:
    """A pristine copy of a cached city (a cycle writes Hasil Pemeriksaan into it)."""
    target = CACHE / "runs" / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(
        root, target, ignore=shutil.ignore_patterns("out", ".complete"), copy_function=shutil.copy2
    )
    return target


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_subprocess(code: str) -> dict:
    """Run `code` (which prints one JSON line) in a fresh interpreter: peak memory is its own."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_header() -> str:
    """When, on which commit, on what machine under what load a benchmark ran: its first line."""
    import os
    import platform

    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).resolve().parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
        f"{os.cpu_count()} cores (load {load} at start), Python {platform.python_version()}"
    )
