"""python -m bench [NAME ...] [--quick] [sizes]: run the benchmarks and print one table.

NAMEs: ack, reply, long, broadcast, reminders, memory (default: all, in that order).
--quick uses small sizes (a smoke run, about 3 minutes on a busy 2-core machine); the full run is the
default. Every size can be set by a flag or by the environment variable in brackets:

  --ack-rates 50,100,200 (BENCH_ACK_RATES)     --ack-seconds 8 (BENCH_ACK_SECONDS)
  --reply-conversations 20 (BENCH_REPLY_CONVERSATIONS, 5 turns each)
  --long-turns 10,100,300 (BENCH_LONG_TURNS)   --long-raw-turns 100 (BENCH_LONG_RAW_TURNS)
  --broadcast-n 600 (BENCH_BROADCAST_N)
  --reminders-n 100000 (BENCH_REMINDERS_N)

The database is PostgreSQL when BENCH_DATABASE_URL or TEST_POSTGRES_URL is set (a throwaway schema,
dropped at the end), else a throwaway SQLite file. The Rasa server is the real one (scripts/run_rasa.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict

from bench.cases import CASES, Context, Sizes
from bench.harness import ROOT


def machine() -> str:
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    rasa_py = ROOT / ".venv-rasa" / "bin" / "python"
    try:
        rasa_version = subprocess.run([str(rasa_py), "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        rasa_version = "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}; gateway Python {platform.python_version()}, Rasa env {rasa_version}; "
            f"load average at start {load:.2f}")


def table(rows: list[dict[str, str]]) -> str:
    cols = ["benchmark", "n", "p50", "p95", "p99", "note"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(r.get(c, "") for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv: list[str] | None) -> tuple[list[str], Sizes, bool, str | None]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=[], metavar="NAME", help=", ".join(CASES))
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    env = os.environ.get
    parser.add_argument("--ack-rates", default=env("BENCH_ACK_RATES"))
    parser.add_argument("--ack-seconds", type=float, default=env("BENCH_ACK_SECONDS"))
    parser.add_argument("--reply-conversations", type=int, default=env("BENCH_REPLY_CONVERSATIONS"))
    parser.add_argument("--long-turns", default=env("BENCH_LONG_TURNS"))
    parser.add_argument("--long-raw-turns", type=int, default=env("BENCH_LONG_RAW_TURNS"))
    parser.add_argument("--broadcast-n", type=int, default=env("BENCH_BROADCAST_N"))
    parser.add_argument("--reminders-n", type=int, default=env("BENCH_REMINDERS_N"))
    parser.add_argument("--json", help="also write the rows and sizes to this file")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in CASES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(CASES)}")
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.ack_rates:
        sizes.ack_rates = _ints(args.ack_rates)
    if args.long_turns:
        sizes.long_turns = _ints(args.long_turns)
    for name in ("ack_seconds", "reply_conversations", "long_raw_turns", "broadcast_n", "reminders_n"):
        if getattr(args, name) is not None:
            setattr(sizes, name, type(getattr(sizes, name))(getattr(args, name)))
    return (args.names or list(CASES)), sizes, args.quick, args.json


def main(argv: list[str] | None = None) -> int:
    names, sizes, quick, json_path = parse(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    header = f"CarerText benchmarks ({'QUICK RUN, small sizes' if quick else 'full run'}): {', '.join(names)}"
    print(header, flush=True)
    print("machine: " + machine(), flush=True)
    print("sizes: " + json.dumps(asdict(sizes)), flush=True)
    ctx = Context(sizes)
    rows, failed = [], 0
    try:
        for name in names:
            started = time.monotonic()
            print(f"... {name}", file=sys.stderr, flush=True)
            try:
                got = CASES[name](ctx)
            except Exception as exc:  # one failing benchmark must not hide the others' numbers
                failed += 1
                got = [{"benchmark": name, "note": f"FAILED: {type(exc).__name__}: {str(exc)[:300]}"}]
            rows += got
            print(f"    {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        print()
        print(table(rows), flush=True)
        ctx.close()
    for note in dict.fromkeys(ctx.notes):
        print("note: " + note)
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"machine": machine(), "quick": quick, "sizes": asdict(sizes), "rows": rows,
                       "notes": ctx.notes}, f, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
