"""Large line-based imports read by worker processes (scraper.parallel) give
the same archive as a serial import, in the same order."""

import os
import pickle

import pytest

from scraper import classify_store, parallel
from scraper.scrape import import_file

from .import_helpers import IMPORTS

PAGES = IMPORTS / "twarc2-search.jsonl"
FLAT = IMPORTS / "twarc2-flattened.jsonl"

COLUMNS = {
    "posts": "*",
    "post_versions": "post_id, version, text, content_hash, first_seen_at, last_seen_at",
    "capture_details": "post_id, source_id, format, location, fetched_url, raw_sha256, raw_pointer",
    "election_posts": "*",
    "raw_payloads": "sha256, format, size, content",
    "parse_errors": "source_id, format, location, reason, raw_sha256",
    "accounts": "platform, handle, platform_user_id, display_name, leader_id, in_roster",
}


def dump(archive) -> dict:
    # Posts without capture metadata get the time of the import: not compared.
    volatile = {"first_captured_at", "last_captured_at"}
    found = {}
    for table, columns in COLUMNS.items():
        order = "id" if table == "capture_details" else "rowid"  # (a view)
        cursor = archive.db.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")
        names = [d[0] for d in cursor.description]
        found[table] = [{k: v for k, v in zip(names, row) if k not in volatile} for row in cursor]
    return found


@pytest.fixture
def big_file(tmp_path):
    """Pages, flattened posts, the same pages again (posts seen before in
    the same import) and a bad line, in one file."""
    path = tmp_path / "collection.jsonl"
    text = PAGES.read_text(encoding="utf-8") + FLAT.read_text(encoding="utf-8") + PAGES.read_text(encoding="utf-8")
    path.write_text(text + "{not json\n", encoding="utf-8")
    return path


def import_both_ways(make_archive, path, **options):
    serial, in_workers = make_archive("serial.db"), make_archive("workers.db")
    first = import_file(serial, "twarc2-jsonl", str(path), workers=0, **options)
    second = import_file(in_workers, "twarc2-jsonl", str(path), workers=2, **options)
    return serial, in_workers, first, second


@pytest.fixture
def make_archive(tmp_path, valdoria_config):
    from scraper.archive import Archive

    def make(name):
        archive = Archive(tmp_path / name)
        archive.migrate()
        archive.load_config(valdoria_config)
        return archive

    return make


def test_workers_give_the_same_archive_as_a_serial_import(make_archive, big_file, monkeypatch):
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 1)  # a line a chunk  # several chunks in flight even for a small file
    serial, in_workers, first, second = import_both_ways(make_archive, big_file)
    assert second.stats.as_dict() == first.stats.as_dict()
    assert first.stats.new_posts > 0 and first.stats.unchanged > 0 and first.stats.parse_errors == 3  # one in each copy of the pages, and ours
    assert first.stats.relevant > 0  # relevance is computed in the workers
    assert dump(in_workers) == dump(serial)
    in_workers.db.execute("insert into posts_fts(posts_fts) values('integrity-check')")


CLASSES = ("SELECT election_id, post_id, reaction_type, confidence, evidence, addressed_candidates, classifier, "
           "post_version FROM reaction_classes ORDER BY election_id, post_id")


def test_workers_classify_as_a_serial_import(make_archive, big_file, monkeypatch):
    """Reaction types are made by the preparing step, in the workers: the
    same classes as a serial import, and as classifying the stored posts afresh."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 1)
    serial, in_workers, _, _ = import_both_ways(make_archive, big_file)
    classes = serial.db.execute(CLASSES).fetchall()
    assert len(classes) == serial.db["election_posts"].count > 0
    assert in_workers.db.execute(CLASSES).fetchall() == classes
    with serial.write():
        serial.db.execute("DELETE FROM reaction_classes")
        classify_store.classify_posts(serial.db)
    assert serial.db.execute(CLASSES).fetchall() == classes


def test_the_classifier_goes_to_the_workers_as_its_candidates(make_archive):
    (matcher,) = make_archive("archive.db").matchers()
    sent = pickle.dumps(matcher.classifier)
    assert len(sent) < 1000  # names and handles, not the compiled lexicon
    received = pickle.loads(sent)
    assert received == matcher.classifier and received.version == matcher.classifier.version


def test_importing_again_in_workers_adds_nothing(make_archive, big_file):
    archive = make_archive("again.db")
    import_file(archive, "twarc2-jsonl", str(big_file), workers=2)
    before = dump(archive)
    result = import_file(archive, "twarc2-jsonl", str(big_file), workers=2)
    assert result.stats.new_posts == 0 and result.stats.new_versions == 0
    after = dump(archive)
    # (the sightings and the bad lines are those the first import recorded)
    assert after == before


def test_bad_line_in_a_worker_is_a_parse_error_with_its_line_number(make_archive, big_file):
    archive = make_archive("errors.db")
    import_file(archive, "twarc2-jsonl", str(big_file), workers=2)
    lines = big_file.read_text(encoding="utf-8").splitlines()
    locations = [row[0] for row in archive.db.execute("SELECT location FROM parse_errors ORDER BY id")]
    assert locations[-1] == f"{big_file}:{len(lines)}"


def test_spawned_workers_when_threads_are_running(make_archive, big_file, monkeypatch):
    monkeypatch.setattr(parallel, "_start_method", lambda: "spawn")
    serial, in_workers, first, second = import_both_ways(make_archive, big_file)
    assert dump(in_workers) == dump(serial)


def test_small_files_are_read_in_this_process(tmp_path):
    assert parallel.worker_count(PAGES, None) == 0
    assert parallel.worker_count(PAGES, 3) == 3
    assert parallel.worker_count(tmp_path / "missing.jsonl", None) == 0


def test_cli_workers_option(tmp_path, big_file):
    from click.testing import CliRunner

    from scraper.cli import cli

    db = tmp_path / "cli.db"
    result = CliRunner().invoke(cli, ["import", "twarc2-jsonl", str(big_file), "--db", str(db), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "ok: 15 items, 4 new" in result.output
    bad = CliRunner().invoke(cli, ["import", "twarc2-jsonl", str(big_file), "--db", str(db), "--workers", "-1"])
    assert bad.exit_code == 2 and "--workers" in bad.output


def test_a_worker_that_dies_loses_nothing(make_archive, big_file, monkeypatch):
    """A worker killed (by the kernel, out of memory) takes its chunk with it:
    the chunks in flight and the rest of the file are read in the importing
    process instead, and the archive is the one a serial import gives."""
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 1)  # a line a chunk
    big_file.write_text(big_file.read_text(encoding="utf-8") * 4, encoding="utf-8")  # more chunks than in flight
    assert len(big_file.read_text(encoding="utf-8").splitlines()) > parallel.CHUNKS_IN_FLIGHT
    serial = make_archive("serial.db")
    import_file(serial, "twarc2-jsonl", str(big_file), workers=0)
    monkeypatch.setattr(parallel, "_start_method", lambda: "fork")
    monkeypatch.setattr(parallel, "_read_range", _die_in_a_worker)
    archive = make_archive("dies.db")
    result = import_file(archive, "twarc2-jsonl", str(big_file), workers=1)
    assert result.status == "ok", result.error
    assert dump(archive) == dump(serial)


_IMPORTER = os.getpid()
_READ_RANGE = parallel._read_range


def _die_in_a_worker(path, *chunk):
    if os.getpid() != _IMPORTER:
        os._exit(1)  # as a worker killed by the kernel would
    return _READ_RANGE(path, *chunk)


def test_default_workers_follow_the_usable_cpus(big_file, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert parallel.worker_count(big_file, None) == 1
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    assert parallel.worker_count(big_file, None) == parallel.MAX_DEFAULT_WORKERS


@pytest.mark.parametrize("fixture", ["items-0.7.jsonl", "tweets-0.4.jsonl"])
def test_snscrape_files_read_by_workers_give_the_same_archive(make_archive, tmp_path, fixture, monkeypatch):
    from pathlib import Path

    monkeypatch.setattr(parallel, "CHUNK_BYTES", 1)
    source = Path(__file__).parent / "fixtures" / "snscrape" / fixture
    path = tmp_path / fixture
    path.write_text(source.read_text(encoding="utf-8") * 2 + "not json\n", encoding="utf-8")
    serial, in_workers = make_archive("serial.db"), make_archive("workers.db")
    first = import_file(serial, "snscrape-jsonl", str(path), workers=0)
    second = import_file(in_workers, "snscrape-jsonl", str(path), workers=2)
    assert second.stats.as_dict() == first.stats.as_dict()
    assert first.stats.new_posts > 0 and first.stats.parse_errors >= 1
    assert without_import_times(dump(in_workers)) == without_import_times(dump(serial))


def without_import_times(tables: dict) -> dict:
    """snscrape lines carry no capture time: the import's clock stands in."""
    return {
        name: [{k: v for k, v in row.items() if k not in ("first_seen_at", "last_seen_at")} for row in rows]
        for name, rows in tables.items()
    }


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_hostile_lines_read_by_workers_are_recorded_exactly_as_in_one_process(make_archive, tmp_path, monkeypatch,
                                                                             start_method):
    """A byte-order mark, a line that is not UTF-8, one above
    limits.max_element_bytes (an Oversize, never held whole), a bad JSON
    line longer than what a parse error keeps, lines ended by a lone
    carriage return: the same parse errors (place, reason, kept bytes) and
    the same posts, whether one process reads the file or workers do (who
    get the limits in force, spawned or forked)."""
    from scraper import limits

    monkeypatch.setattr(parallel, "CHUNK_BYTES", 64)  # many chunks
    monkeypatch.setattr(parallel, "WHOLE_CHUNK_BYTES", 4096)  # the long line's chunk read through a window
    monkeypatch.setattr(parallel, "_start_method", lambda: start_method)
    good = [line for line in FLAT.read_bytes().splitlines() if line.strip()]
    lines = [
        b"\xef\xbb\xbf" + good[0],
        good[1].replace(b"Valdoria", b"Vald\xf3ria", 1) if b"Valdoria" in good[1] else good[1][:40] + b"\xff" + good[1][40:],
        b'{"id": "1", "text": "' + b"x" * 20_000 + b'"}',  # above the limit below
        b"{not json " + b"y" * 9_000,  # longer than a parse error keeps
        good[2],
    ]
    body = b"\n".join(lines) + b"\r\r\n" + b"\n".join(good[3:]) + b"\n"  # line 5 ends with a lone CR, 6 is blank
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(body)
    with limits.in_force(limits.with_values(max_element_bytes=16_000, kept_error_bytes=4_000)):
        serial, in_workers = make_archive("serial.db"), make_archive("workers.db")
        first = import_file(serial, "twarc2-jsonl", str(path), workers=0)
        second = import_file(in_workers, "twarc2-jsonl", str(path), workers=2)
    assert first.status == second.status == "ok", (first.error, second.error)
    assert second.stats.as_dict() == first.stats.as_dict()
    assert first.stats.parse_errors == 3 and first.stats.new_posts > 0
    assert dump(in_workers) == dump(serial)
    errors = serial.db.execute("SELECT location, reason, raw_sha256 FROM parse_errors ORDER BY id").fetchall()
    assert [location.rsplit(":", 1)[1] for location, _, _ in errors] == ["2", "3", "4"]
    assert "not UTF-8" in errors[0][1] and "above limits.max_element_bytes" in errors[1][1]
    kept = [len(serial.raw_payload(sha)) for _, _, sha in errors[1:]]
    assert max(kept) <= 4_000 + 200  # (the payload's own wrapping)
    later = serial.db.execute("SELECT location FROM capture_details ORDER BY id").fetchall()
    assert f"{path}:{len(lines) + 2}" in {row[0].split("#")[0] for row in later}  # numbered past the lone CR


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 8, 13, 64])
def test_chunks_number_lines_as_one_reader_does(tmp_path, monkeypatch, chunk_bytes):
    """Whatever the line ends (newline, CR LF, a lone CR, one cut by a chunk's
    end), each chunk's first line has the number a reading of the whole file
    gives it."""
    from scraper.sources.filestream import numbered_lines, open_text

    monkeypatch.setattr(parallel, "CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "ends.jsonl"
    path.write_bytes(b"a\nbb\r\nccc\rd\r\r\ne\n\n\rf\r\ng" * 5 + b"\n")
    with open_text(path) as stream:
        whole = list(numbered_lines(stream))
    parallel._set_up("twarc2-jsonl", "s", [], False, parallel.limits.current())
    chunked = []
    for first, offset, length in parallel.chunks_of(str(path)):
        with open(path, "rb") as raw:
            raw.seek(offset)
            text = raw.read(length).decode("utf-8")
        import io

        chunked += [(first - 1 + number, line) for number, line in numbered_lines(io.StringIO(text, newline=""))]
    assert chunked == whole
