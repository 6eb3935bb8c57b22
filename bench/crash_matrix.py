"""The crash matrix at large: `kill -9` at every named step of `run --once`, and at random
moments, on a small sample city; then check it and rerun it (see
`kkmp_sheets.testing.crash_matrix` for what is checked).

    python bench/crash_matrix.py [--size 4] [--rounds 1] [--random 20] [--seed 14]

`--rounds` repeats every named point; `--random` adds kills at random time offsets into the run
(which also land in places without a named point: reading, rendering, delivering digests).
Prints one line per kill that was not clean, then: kills, clean, stray files beside the
workbooks right after the kill, and problems left after the healthy rerun.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kkmp_sheets.demo.city import build_demo_city
from kkmp_sheets.testing.crash_matrix import AS_OF, Matrix, Outcome


def kill_after(matrix: Matrix, seconds: float, label: int) -> Outcome:
    """Kill a run `seconds` after it started (SIGKILL), then check and rerun as for a point."""
    copy = matrix._copy(f"time-{label}")
    command = [sys.executable, "-m", "kkmp_sheets", "run", "--once"]
    command += ["--config", str(copy / "city.toml"), "--as-of", AS_OF.isoformat()]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    process.send_signal(signal.SIGKILL)
    process.wait()
    outcome = Outcome(label, f"t+{seconds:.2f}s", killed=process.returncode == -9)
    outcome.problems += matrix._damage(copy)
    outcome.stray = matrix._stray(copy)
    rerun = matrix._run(copy, {})
    if rerun.returncode != 0:
        outcome.after_rerun.append(f"healthy rerun exit {rerun.returncode}")
    outcome.after_rerun += matrix._damage(copy) + matrix._stray(copy) + matrix._leftovers(copy)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--random", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        city = build_demo_city(Path(folder) / "pristine", size=args.size, as_of=AS_OF)
        matrix = Matrix(Path(folder), city.root, city.workbooks)
        started = time.perf_counter()
        names = matrix.points()
        healthy = time.perf_counter() - started
        outcomes = [
            matrix.kill_at(n, names[n - 1])
            for _ in range(args.rounds)
            for n in range(1, len(names) + 1)
        ]
        rng = random.Random(args.seed)
        outcomes += [
            kill_after(matrix, rng.uniform(0.5, healthy), i) for i in range(1, args.random + 1)
        ]
    for o in outcomes:
        if not o.clean:
            print(f"  point {o.point} {o.name}: {o.problems + o.stray + o.after_rerun}")
    killed = sum(o.killed for o in outcomes)
    print(f"named points per run : {len(names)} ({', '.join(sorted(set(names)))})")
    print(f"healthy run          : {healthy:.1f} s")
    print(f"kills                : {killed} of {len(outcomes)} runs")
    print(f"clean                : {sum(o.clean for o in outcomes)}")
    print(f"stray files          : {sum(len(o.stray) for o in outcomes)}")
    print(f"damage after kill    : {sum(len(o.problems) for o in outcomes)}")
    print(f"left after rerun     : {sum(len(o.after_rerun) for o in outcomes)}")
    sys.exit(0 if all(o.clean for o in outcomes if o.killed) else 1)


if __name__ == "__main__":
    main()
