"""Run one command as a child process and measure it: wall seconds and the
peak resident memory of that child alone.

Peak memory comes from ``os.wait4(pid)``, which returns the resource usage
of exactly the child it reaps (and of anything that child itself waited
for). ``getrusage(RUSAGE_CHILDREN)`` would be wrong here: its ``ru_maxrss``
is the maximum over every child this process has ever reaped, so a smaller
measurement after a larger one would report the larger. ``/usr/bin/time -v``
reads the same wait4 numbers, and psutil is not installed. On Linux
``ru_maxrss`` is in KiB.
"""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

BIN = Path(sys.executable).parent


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system, of the child and of every process it waited for (its workers)
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str


def run(command: list[str], cwd: Path) -> Run:
    """Run COMMAND in CWD; its output goes to files so pipes never block it."""
    out_path, err_path = cwd / ".bench-stdout", cwd / ".bench-stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
    result = Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode,
                 out_path.read_text(errors="replace"), err_path.read_text(errors="replace"))
    out_path.unlink()
    err_path.unlink()
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def tool(name: str, module: str | None = None) -> list[str]:
    """The venv's console script NAME, else ``python -m MODULE``."""
    script = BIN / name
    if script.exists():
        return [str(script)]
    if module:
        return [sys.executable, "-m", module]
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found beside {sys.executable} or on PATH")
    return [found]


def database_bytes(path: Path) -> int:
    """The archive on disk: the file plus any WAL, shared-memory or journal file."""
    return sum(p.stat().st_size for p in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal")))
               if p.exists())


def remove_database(path: Path) -> None:
    for p in (path, *(Path(f"{path}{s}") for s in ("-wal", "-shm", "-journal"))):
        p.unlink(missing_ok=True)


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def scraper_source() -> dict:
    """Which scraper package the children import (the editable checkout, or
    a snapshot put first on PYTHONPATH), and at which commit."""
    found = subprocess.run([sys.executable, "-c", "import scraper; print(scraper.__file__)"], cwd="/",
                           capture_output=True, text=True, check=True).stdout.strip()
    top = Path(found).parent.parent
    marker = top / "COMMIT"
    if marker.exists():
        return {"scraper": str(top), "commit": marker.read_text().strip(), "modified": False}
    git = ["git", "-C", str(top)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    modified = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "scraper"]).returncode != 0
    return {"scraper": str(top), "commit": commit or None, "modified": modified}


def machine() -> dict:
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **scraper_source(),
    }


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.1f}"


def main(doc: str, variants, bench_size, table, argv=None, sizes_help="posts per run",
         config_help="config the archive is built with", default_config=None, prefix="bench-",
         add_options=None) -> None:
    """The command line the benchmarks share: sizes, variants, config,
    workdir, --json; machine facts read before the run. ``add_options``:
    called with the parser to add a benchmark's own options, and again
    with the parsed arguments."""
    import argparse
    import json
    import tempfile

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000], help=f"{sizes_help} (default 100000)")
    parser.add_argument("--variants", nargs="+", choices=list(variants), default=list(variants))
    parser.add_argument("--config", type=Path, default=default_config, help=config_help)
    parser.add_argument("--workdir", type=Path, help="folder for inputs, archives and outputs (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    if add_options:
        add_options(parser)
    args = parser.parse_args(argv)
    if add_options:
        add_options(args)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    info = machine()  # before the run: the checkout may change during it
    with tempfile.TemporaryDirectory(prefix=prefix, dir=args.workdir) as tmp:
        results = [row for size in args.sizes
                   for row in bench_size(size, args.variants, args.config.resolve(), Path(tmp).resolve(), log)]
    if args.json:
        print(json.dumps({"machine": info, "results": results}, indent=2))
    else:
        print(f"<!-- {json.dumps(info)} -->")
        print(table(results))
