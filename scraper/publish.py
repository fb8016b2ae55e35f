"""Publishing the archive with Datasette.

The metadata lives in one file, ``metadata.yml`` at the top of the
repository. In a checkout it is read from there; an installed package
carries the same file (the wheel build copies it in), so there are never two
hand-kept copies. The database key in the file is ``archive``; it is renamed
to match whatever archive file is served.
"""

from __future__ import annotations

import json
import signal
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


def datasette_instance(database_path: str | Path, *, immutable: bool = False, settings: dict | None = None,
                       allow_robots: bool = False, inspect_data: dict | None = None):
    """A Datasette object on the archive, as `reactions serve` runs it, with
    the project's templates and plugin (tests drive it in-process through
    ``ds.client``)."""
    from datasette.app import Datasette

    from .web import plugins_folder, templates_folder

    if immutable:
        checkpoint(Path(database_path))
    database_path = str(database_path)
    return Datasette(
        files=[] if immutable else [database_path],
        immutables=[database_path] if immutable else [],
        metadata=serving_metadata(database_path, allow_robots=allow_robots),
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        static_mounts=[("assets", str(static_folder()))],
        template_dir=str(templates_folder()),
        plugins_dir=str(plugins_folder()),
        inspect_data=inspect_data,
    )


# robots.txt (datasette-block-robots) when crawlers are let in.
ALLOW_ROBOTS = "User-agent: *\nDisallow:"


def serving_metadata(database_path: str | Path, allow_robots: bool = False) -> dict:
    """The metadata as served: robots are kept out unless allowed (a public
    archive of political posts is for people who look for it, not for
    crawlers to index page by page)."""
    metadata = load_metadata(database_path)
    if allow_robots:
        metadata.setdefault("plugins", {})["datasette-block-robots"] = {"literal": ALLOW_ROBOTS}
    return metadata


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
    inspect_file: str | Path | None = None,
) -> list[str]:
    from .web import plugins_folder, templates_folder

    command = [sys.executable, "-m", "datasette", "serve"]
    command += ["-i", str(database_path)] if immutable else [str(database_path)]
    command += ["--metadata", str(metadata_file), "--host", host, "--port", str(port)]
    command += ["--static", f"assets:{static_folder()}"]
    command += ["--template-dir", str(templates_folder()), "--plugins-dir", str(plugins_folder())]
    if inspect_file is not None:
        command += ["--inspect-file", str(inspect_file)]
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


FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def serve(database_path: str | Path, allow_robots: bool = False, **options) -> int:
    """Run Datasette on the archive until it stops or this process is told
    to stop (SIGTERM, SIGINT, SIGHUP: passed on to Datasette, which is then
    waited for); the temporary metadata file is removed either way. Return
    Datasette's exit code (0 when it stopped on a signal)."""
    database_path = Path(database_path)
    if not database_path.exists():
        raise ArchiveUnwritableError(f"{database_path}: no archive here yet; run 'reactions scrape' first")
    if options.get("inspect_file") and not Path(options["inspect_file"]).is_file():
        raise InputError(f"{options['inspect_file']}: no such inspect file (make one with 'datasette inspect')")
    if options.get("immutable"):
        checkpoint(database_path)
    with tempfile.TemporaryDirectory(prefix="reactions-serve-") as folder:
        metadata_file = Path(folder) / "metadata.json"
        metadata = serving_metadata(database_path, allow_robots=allow_robots)
        metadata_file.write_text(json.dumps(metadata, ensure_ascii=False))
        command = serve_command(database_path, metadata_file, **options)
        # Its own process group: a terminal's Ctrl-C reaches Datasette once, through us.
        child = subprocess.Popen(command, start_new_session=True, preexec_fn=_stop_with_parent)

        def forward(signum, frame):
            if child.poll() is None:
                child.send_signal(signum)

        previous = {signum: signal.signal(signum, forward) for signum in FORWARDED_SIGNALS}
        try:
            returncode = child.wait()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if child.poll() is None:  # an error of ours: never leave Datasette behind
                child.terminate()
                child.wait()
    return 0 if returncode < 0 and -returncode in FORWARDED_SIGNALS else returncode


def _stop_with_parent() -> None:
    """In the child, before Datasette starts: on Linux, be sent SIGTERM when
    the parent dies however it dies (kill -9 included)."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass
