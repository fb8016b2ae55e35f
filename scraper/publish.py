"""Publishing the archive with Datasette.

The metadata lives in one file, ``metadata.yml`` at the top of the
repository. In a checkout it is read from there; an installed package
carries the same file (the wheel build copies it in), so there are never two
hand-kept copies. The database key in the file is ``archive``; it is renamed
to match whatever archive file is served.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import yaml

from .errors import ArchiveUnwritableError, InputError

# libyaml's parser when PyYAML was built with it: the same safe loading, about
# seven times as fast on metadata.yml (every export reads it).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Public instances stay bounded: queries stop after this long, pages are capped.
DEFAULT_SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 2000,
    "default_page_size": 50,
    "facet_time_limit_ms": 500,
    # Suggesting facets tries a query per column on every page: seconds on a
    # large archive (measured: benchmarks/bench_browse.py). The useful facets are set.
    "suggest_facets": False,
    "allow_download": False,
}


def metadata_path() -> Path:
    checkout = Path(__file__).resolve().parent.parent / "metadata.yml"
    if checkout.exists():
        return checkout
    packaged = resources.files("scraper").joinpath("metadata.yml")
    if packaged.is_file():
        return Path(str(packaged))
    raise InputError("metadata.yml not found in the checkout or the installed package")


def load_metadata(database_path: str | Path | None = None, path: Path | None = None) -> dict:
    """The Datasette metadata, keyed by the served archive's name."""
    metadata = yaml.load((path or metadata_path()).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    if database_path is not None:
        name = Path(database_path).stem
        databases = metadata.get("databases", {})
        if "archive" in databases and name != "archive":
            databases[name] = databases.pop("archive")
            if metadata.get("description_html"):  # its links name the database
                metadata["description_html"] = metadata["description_html"].replace('"/archive', f'"/{name}')
    return metadata


def datasette_instance(database_path: str | Path, *, immutable: bool = False, settings: dict | None = None):
    """A Datasette object on the archive, as `reactions serve` runs it
    (tests drive it in-process through ``ds.client``)."""
    from datasette.app import Datasette

    if immutable:
        checkpoint(Path(database_path))
    database_path = str(database_path)
    return Datasette(
        files=[] if immutable else [database_path],
        immutables=[database_path] if immutable else [],
        metadata=load_metadata(database_path),
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        static_mounts=[("assets", str(static_folder()))],
    )


def static_folder() -> Path:
    """CSS the metadata refers to (/assets/...), shipped inside the package."""
    return Path(str(resources.files("scraper").joinpath("static")))


def serve_command(
    database_path: str | Path,
    metadata_file: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    immutable: bool = False,
    open_browser: bool = False,
    extra_settings: dict | None = None,
) -> list[str]:
    command = [sys.executable, "-m", "datasette", "serve"]
    command += ["-i", str(database_path)] if immutable else [str(database_path)]
    command += ["--metadata", str(metadata_file), "--host", host, "--port", str(port)]
    command += ["--static", f"assets:{static_folder()}"]
    for name, value in {**DEFAULT_SETTINGS, **(extra_settings or {})}.items():
        command += ["--setting", name, _setting_value(value)]
    if open_browser:
        command.append("--open")
    return command


def _setting_value(value) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def checkpoint(database_path: Path) -> None:
    """Fold the write-ahead log into the archive file, so that a reader that
    trusts the file alone (immutable mode, a copy to publish) sees every post.
    Best effort: a read-only file is served as it is."""
    import sqlite3

    try:
        with sqlite3.connect(database_path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass


def serve(database_path: str | Path, **options) -> int:
    """Run Datasette on the archive until interrupted; return its exit code."""
    database_path = Path(database_path)
    if not database_path.exists():
        raise ArchiveUnwritableError(f"{database_path}: no archive here yet; run 'reactions scrape' first")
    if options.get("immutable"):
        checkpoint(database_path)
    with tempfile.TemporaryDirectory() as folder:
        metadata_file = Path(folder) / "metadata.json"
        metadata_file.write_text(json.dumps(load_metadata(database_path), ensure_ascii=False))
        command = serve_command(database_path, metadata_file, **options)
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 0
