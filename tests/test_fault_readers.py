"""Fault suite: every reader of scraper/formats.py fuzzed with hostile input.

The properties, for any input:

* no exception escapes (an import ends ``ok`` or ``failed`` with a message,
  never in the "unexpected" branch that logs a traceback);
* in line-based formats every non-blank line becomes an item or a recorded
  parse error, and the good lines around bad ones are all kept;
* in streamed arrays (an X archive's tweets.js, a Mastodon outbox, a v1.1
  array) each bad element is one parse error and the good ones are kept;
* whatever a reader yields can be stored.

Inputs are the real-shaped fixtures, with lines or elements inserted that
are random bytes, invalid UTF-8, nested deeper than any parser goes, larger
than the element limit, or truncated; and the fixtures mutated or cut at
random. Example counts come from the hypothesis profile (tests/conftest.py:
bounded in CI, `pytest --fuzz-long` for a long local run).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from scraper import formats, limits
from scraper.archive import Archive
from scraper.model import RawItem
from scraper.scrape import import_file
from scraper.sources import Unparsed
from scraper.sources.decoding import ItemGate

FIXTURES = Path(__file__).parent / "fixtures"

# Small limits, so that "too large" costs little to generate.
FUZZ_LIMITS = limits.with_values(max_element_bytes=64 << 10, kept_error_bytes=4 << 10)


def _minified_lines(*names: str) -> bytes:
    return b"".join(json.dumps(json.loads((FIXTURES / name).read_text())).encode() + b"\n" for name in names)


LINE_FORMATS = {
    "twarc2-jsonl": (FIXTURES / "imports" / "twarc2-flattened.jsonl").read_bytes(),
    "snscrape-jsonl": (FIXTURES / "snscrape" / "items-0.7.jsonl").read_bytes(),
    "x-v1-json": (FIXTURES / "imports" / "x-v1-tweets.jsonl").read_bytes(),
    "bluesky-feed": (FIXTURES / "bluesky" / "author-feed-saved.jsonl").read_bytes(),
    "x-v2": (FIXTURES / "x" / "saved_pages.jsonl").read_bytes(),
    "x-syndication": _minified_lines("x/syndication_live.json", "x/syndication_tombstone.json"),
    "x-oembed": _minified_lines("x/oembed_fallback.json"),
    "urls": (FIXTURES / "imports" / "post-urls.txt").read_bytes(),
}
WHOLE_FILES = {
    "mastodon-statuses": FIXTURES / "mastodon" / "statuses-saved.json",
    "telegram-html": FIXTURES / "telegram" / "page1.html",
    "article": FIXTURES / "article" / "news-embeds.html",
    "rss": FIXTURES / "imports" / "statements.rss",
}
FOLDERS = {
    "x-archive": FIXTURES / "imports" / "x-archive",
    "mastodon-outbox": FIXTURES / "imports" / "mastodon-export",
}


def test_every_registered_reader_is_fuzzed():
    assert set(formats.FILE_READERS) == set(LINE_FORMATS) | set(WHOLE_FILES) | set(FOLDERS)


# --- hostile pieces ------------------------------------------------------------------------

# Bytes that end a line for one reader or another (str.splitlines splits on more than \n).
_LINE_BREAKS = re.compile(rb"[\n\r\x0b\x0c\x1c-\x1e\x85]|\xe2\x80[\xa8\xa9]|\xc2\x85")


def _one_line(data: bytes) -> bytes:
    return _LINE_BREAKS.sub(b" ", data)


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth if depth % 2 else b"[" * depth + b"]" * depth


def _huge(size: int) -> bytes:
    return b'{"id_str": "1", "text": "' + b"x" * size + b'"}'


def bad_lines(good: list[bytes]) -> st.SearchStrategy[bytes]:
    """A line no reader can take as a good record ("!" first: never blank,
    never a comment, never JSON, never a post URL)."""
    random_bytes = st.binary(min_size=1, max_size=300).map(lambda b: b"!" + _one_line(b))
    bad_utf8 = st.tuples(st.sampled_from(good), st.integers(0, 10_000), st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xfe"])).map(
        lambda t: b"!" + t[0][: t[1] % max(len(t[0]), 1)] + t[2] + t[0][t[1] % max(len(t[0]), 1):]
    )
    deep = st.sampled_from([60, 999, 1001, 1030, 5000, 20_000]).map(_nested)
    huge = st.sampled_from([70_000, 200_000]).map(_huge)
    cut = st.tuples(st.sampled_from(good), st.floats(0.05, 0.95)).map(lambda t: b"!" + t[0][: int(len(t[0]) * t[1])])
    surrogate_escape = st.just(b'!{"text": "\\ud800"}')
    return st.one_of(random_bytes, bad_utf8, deep, huge, cut, surrogate_escape)


# --- running a reader ------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def small_limits():
    with limits.in_force(FUZZ_LIMITS):
        yield


@pytest.fixture(scope="module")
def fuzz_archive(tmp_path_factory):
    archive = Archive(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    archive.migrate()
    archive.register_source("fuzz", "fuzz", "generated inputs")
    return archive


class Workdir:
    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="fuzz-"))
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def read_and_store(archive: Archive, format_name: str, path: Path) -> list:
    """What the reader yields, through the gate, and stored: nothing may raise."""
    gate = ItemGate(formats.file_reader(format_name)(str(path), "fuzz"), "fuzz", str(path))
    entries = list(gate)
    assert gate.error is None or "\n" not in gate.error
    stats = archive.store(entries, None, keep_ids=False)
    assert stats.items == len(entries)
    return entries


def unexpected(result) -> bool:
    """Did the import end in its catch-all branch (the one that logs a traceback)?"""
    return re.search(r": unexpected [A-Za-z_.]+: ", result.error or "") is not None


def line_of(entry, path: Path) -> int | None:
    match = re.match(re.escape(str(path)) + r":(\d+)", entry.location or "")
    return int(match.group(1)) if match else None


def payload_text(item: RawItem) -> str:
    """What identifies an item's record: its payload, or the page it was cut
    from and where in it (storing forgets an item's parsed JSON)."""
    if item.payload is not None:
        return item.payload
    if item.raw_page is not None:
        return f"{item.raw_page.text}#{item.pointer}"
    return json.dumps(item.decoded, sort_keys=True)


def items_and_errors(entries) -> tuple[list, list]:
    return [e for e in entries if isinstance(e, RawItem)], [e for e in entries if isinstance(e, Unparsed)]


# --- line-based formats: a bad line never costs a good one -------------------------------------


@pytest.mark.parametrize("format_name", sorted(LINE_FORMATS))
@given(data=st.data())
def test_bad_lines_are_errors_and_every_good_line_is_kept(format_name, data, fuzz_archive):
    good = [line for line in LINE_FORMATS[format_name].splitlines() if line.strip()]
    with Workdir() as work:
        baseline_path = work / "good.jsonl"
        baseline_path.write_bytes(b"\n".join(good) + b"\n")
        baseline = read_and_store(fuzz_archive, format_name, baseline_path)
        base_items, base_errors = items_and_errors(baseline)

        inserted = data.draw(st.lists(st.tuples(st.integers(0, len(good)), bad_lines(good)), min_size=1, max_size=4))
        lines = list(good)
        for position, bad in sorted(inserted, key=lambda pair: -pair[0]):
            lines.insert(position, bad)
        bad_numbers = {number for number, line in enumerate(lines, 1) if line not in good}
        path = work / "mixed.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        note(f"{len(inserted)} bad lines at {sorted(bad_numbers)}")

        entries = read_and_store(fuzz_archive, format_name, path)
        items, errors = items_and_errors(entries)

    # Every good line's items are kept; what else was read came from the bad
    # lines, each of which left a record (a parse error, or an item that the
    # archive stores as a post or as a parse error).
    kept = [payload_text(item) for item in items]
    for item in base_items:
        assert payload_text(item) in kept
    assert len(errors) >= len(base_errors)
    assert {line_of(entry, path) for entry in items if payload_text(entry) not in
            {payload_text(i) for i in base_items}} <= bad_numbers
    assert bad_numbers <= {line_of(entry, path) for entry in entries}, "a bad line left no record"
    for error in errors:
        assert len(error.payload) <= FUZZ_LIMITS.kept_error_bytes
        error.payload.encode("utf-8")  # storable as it is


@pytest.mark.parametrize("format_name", sorted(LINE_FORMATS))
@given(cut=st.floats(0.0, 1.0))
def test_a_line_file_cut_short_keeps_every_complete_line(format_name, cut, fuzz_archive):
    good = [line for line in LINE_FORMATS[format_name].splitlines() if line.strip()]
    text = b"\n".join(good) + b"\n"
    with Workdir() as work:
        full = read_and_store(fuzz_archive, format_name, _write(work / "full.jsonl", text))
        cut_path = _write(work / "cut.jsonl", text[: int(len(text) * cut)])
        entries = read_and_store(fuzz_archive, format_name, cut_path)
    complete = text[: int(len(text) * cut)].count(b"\n")
    kept = {payload_text(item) for item in items_and_errors(entries)[0]}
    for item in items_and_errors(full)[0]:
        if (line_of(item, work / "full.jsonl") or len(good)) <= complete:  # (no line: the file read whole)
            assert payload_text(item) in kept


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --- streamed arrays: a bad element never costs a good one ---------------------------------------


def bad_elements() -> st.SearchStrategy[bytes]:
    """Element texts that keep the array's structure whole."""
    plain = st.binary(min_size=1, max_size=200).map(lambda b: re.sub(rb'["\\\[\]{},]', b"", _one_line(b)) or b"x")
    return st.one_of(
        plain.map(lambda b: b'"' + b + b'"'),  # a string: not a post
        plain.map(lambda b: b'{"tweet": {"id_str": "12", "full_text": "' + b + b'\xff"}}'),  # undecodable
        st.sampled_from([60, 1001, 5000, 20_000]).map(_nested),
        st.sampled_from([70_000, 150_000]).map(_huge),
        st.just(b'{"tweet": 5}'),
        st.just(b"tru"),
    )


def _array_file(prefix: bytes, elements: list[bytes], suffix: bytes) -> bytes:
    return prefix + b"[\n" + b",\n".join(elements) + b"\n]" + suffix


ARRAYS = {
    # format: (file inside the folder, text before the array, key holding it)
    "x-archive": ("data/tweets.js", b"window.YTD.tweets.part0 = ", None),
    "mastodon-outbox": ("outbox.json", b'{"type": "OrderedCollection", "orderedItems": ', "orderedItems"),
    "x-v1-json": (None, b"", None),
}


def _array_elements(format_name: str) -> list[bytes]:
    if format_name == "x-v1-json":
        values = json.loads((FIXTURES / "imports" / "x-v1-tweets.json").read_text())
    else:
        name, _prefix, key = ARRAYS[format_name]
        text = (FOLDERS[format_name] / name).read_text()
        values = json.loads(text[text.index("=") + 1 :]) if key is None else json.loads(text)[key]
    return [json.dumps(value, ensure_ascii=False).encode() for value in values]


@pytest.mark.parametrize("format_name", sorted(ARRAYS))
@given(data=st.data())
def test_bad_array_elements_are_errors_and_every_good_one_is_kept(format_name, data, fuzz_archive):
    good = _array_elements(format_name)
    inserted = data.draw(st.lists(st.tuples(st.integers(0, len(good)), bad_elements()), min_size=1, max_size=4))
    elements = list(good)
    for position, bad in sorted(inserted, key=lambda pair: -pair[0]):
        elements.insert(position, bad)
    with Workdir() as work:
        base = _write_array(work / "good", format_name, good)
        base_items, base_errors = items_and_errors(read_and_store(fuzz_archive, format_name, base))
        mixed = _write_array(work / "mixed", format_name, elements)
        items, errors = items_and_errors(read_and_store(fuzz_archive, format_name, mixed))
    assert sorted(payload_text(i) for i in items) == sorted(payload_text(i) for i in base_items)
    assert len(errors) == len(base_errors) + len(inserted)


def _write_array(target: Path, format_name: str, elements: list[bytes]) -> Path:
    name, prefix, key = ARRAYS[format_name]
    if name is None:
        return _write(target.with_suffix(".json"), _array_file(prefix, elements, b""))
    shutil.copytree(FOLDERS[format_name], target)
    (target / name).write_bytes(_array_file(prefix, elements, b"}" if key else b""))
    return target


# --- any format, any damage: no exception escapes -------------------------------------------------


def _fixture_bytes(format_name: str) -> tuple[bytes, str | None]:
    """The fixture's bytes, and for folders the file inside that is damaged."""
    if format_name in LINE_FORMATS:
        return LINE_FORMATS[format_name], None
    if format_name in WHOLE_FILES:
        return WHOLE_FILES[format_name].read_bytes(), None
    name = ARRAYS[format_name][0]
    return (FOLDERS[format_name] / name).read_bytes(), name


def damaged(data: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)), min_size=1, max_size=20)

    def flip(changes):
        out = bytearray(data)
        for index, value in changes:
            if out:
                out[index] = value
        return bytes(out)

    return st.one_of(
        flips.map(flip),
        st.floats(0, 1).map(lambda f: data[: int(len(data) * f)]),
        st.binary(max_size=2000),
        st.sampled_from([_nested(50_000), _huge(300_000), b"\xef\xbb\xbf", b"", b"\x00" * 100]),
        st.tuples(st.integers(0, len(data)), st.sampled_from([_nested(3000), b"\xff\xfe", b'"\\ud800"'])).map(
            lambda t: data[: t[0]] + t[1] + data[t[0]:]
        ),
    )


@pytest.mark.parametrize("format_name", sorted(formats.FILE_READERS))
@given(data=st.data())
def test_no_damaged_input_makes_an_import_raise(format_name, data, fuzz_archive):
    original, inner = _fixture_bytes(format_name)
    broken = data.draw(damaged(original))
    with Workdir() as work:
        if inner is None:
            target = _write(work / f"input{Path(str(WHOLE_FILES.get(format_name, 'x.jsonl'))).suffix}", broken)
        else:
            target = work / "export"
            shutil.copytree(FOLDERS[format_name], target)
            (target / inner).write_bytes(broken)
        result = import_file(fuzz_archive, format_name, str(target), workers=0)
    assert result.status in ("ok", "failed")
    assert not unexpected(result), result.error
    assert "\n" not in (result.error or "")
    if result.status == "ok":  # never a silent zero (scraper/nothing_read.py): ok means posts were read
        assert result.stats.items > result.stats.parse_errors, _summary(result)


def _summary(result) -> str:
    from scraper.cli import _summary_line

    return _summary_line(result)


# --- the failures the fault run found, each kept as a plain case ------------------------------------


def _twarc_with_bad_lines(path: Path) -> Path:
    good = LINE_FORMATS["twarc2-jsonl"].splitlines()
    lines = [good[0], b'{"id": "1", "text": "bad \xff\xfe bytes"}', b"[" * 100_000 + b"]" * 100_000, *good[1:]]
    return _write(path, b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("workers", [0, 2])
def test_one_bad_line_never_loses_the_file(workers, tmp_path):
    from click.testing import CliRunner

    from scraper.cli import cli

    path = _twarc_with_bad_lines(tmp_path / "tweets.jsonl")
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", "twarc2-jsonl", str(path), "--db", str(db), "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    archive = Archive(db)
    good_posts = len([line for line in LINE_FORMATS["twarc2-jsonl"].splitlines() if line.strip()])
    assert archive.db["posts"].count == good_posts
    errors = archive.db.execute("SELECT location, reason, raw_sha256 FROM parse_errors ORDER BY id").fetchall()
    assert [location.rsplit(":", 1)[1] for location, _reason, _sha in errors] == ["2", "3"]
    assert "not UTF-8: undecodable byte 0xff" in errors[0][1]
    assert "element of 200,000 characters" in errors[1][1] or "nested too deeply" in errors[1][1]
    assert '\\xff\\xfe bytes' in archive.raw_payload(errors[0][2])  # the raw bytes kept, written \xNN


JUNK = {
    "JSON": b'{"data": [{"id": "1", "text": "not a page"}], "meta": {"result_count": 1}}',
    "binary": bytes(range(256)) * 8,
    "empty": b"",
    "plain text": b"Nothing here is a post.\n",
}


@pytest.mark.parametrize("junk", sorted(JUNK))
@pytest.mark.parametrize("format_name", ["article", "telegram-html", "rss", "mastodon-statuses"])
def test_junk_given_to_a_page_reader_is_a_failure_that_says_what_it_was(format_name, junk, tmp_path):
    """Never "ok: 0 items": the input is recorded as what it looked like and
    the command fails with exit 2 (issue 14 found telegram-html and article
    answering "ok: 0 items" for JSON and binary junk)."""
    from click.testing import CliRunner

    from scraper.cli import cli

    path = _write(tmp_path / "junk.html", JUNK[junk])
    db = tmp_path / "a.db"
    result = CliRunner().invoke(cli, ["import", format_name, str(path), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert " failed: " in result.output and "ok: 0 items" not in result.output
    assert "Traceback" not in result.output
    # Recorded as a parse error with what it looked like, or (an article that
    # is not UTF-8 text at all) refused whole with the reason.
    assert Archive(db).db["parse_errors"].count >= 1 or "not UTF-8 text" in result.output, result.output


def test_import_urls_given_jsonl_records_each_line(tmp_path):
    from click.testing import CliRunner

    from scraper.cli import cli

    result = CliRunner().invoke(cli, ["import", "urls", str(FIXTURES / "imports" / "twarc2-flattened.jsonl"),
                                      "--db", str(tmp_path / "a.db")])
    # Each line a parse error that says what it is, and no post read: the
    # import fails (never a silent zero, scraper/nothing_read.py), exit 2.
    assert result.exit_code == 2, result.output
    assert "failed: 4 items, 0 new, 0 new versions, 0 unchanged, 4 parse errors" in result.output
    assert "no post read, 4 parse errors (see parse_errors), the first: not a post URL" in result.output
    assert "Traceback" not in result.output


def test_a_huge_string_in_a_small_zip_is_skipped_without_holding_it(tmp_path):
    import tracemalloc
    import zipfile

    tweets = _array_elements("x-archive")
    huge = b'{"tweet": {"id_str": "9", "full_text": "' + b"x" * (24 << 20) + b'"}}'
    body = _array_file(b"window.YTD.tweets.part0 = ", [tweets[0], huge, *tweets[1:]], b"")
    archive_zip = tmp_path / "twitter-archive.zip"
    with zipfile.ZipFile(archive_zip, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("data/tweets.js", body)
        bundle.write(FOLDERS["x-archive"] / "data" / "account.js", "data/account.js")
    del body, huge
    assert archive_zip.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        entries = list(ItemGate(formats.file_reader("x-archive")(str(archive_zip), "fuzz"), "fuzz", "zip"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    items, errors = items_and_errors(entries)
    base_items, base_errors = items_and_errors(
        list(ItemGate(formats.file_reader("x-archive")(str(FOLDERS["x-archive"]), "fuzz"), "fuzz", "folder")))
    assert [payload_text(i) for i in items] == [payload_text(i) for i in base_items]
    assert len(errors) == len(base_errors) + 1
    huge_error = next(e for e in errors if "above limits.max_element_bytes" in e.reason)
    assert huge_error.location.endswith("!data/tweets.js:3") and 4000 < len(huge_error.payload) <= FUZZ_LIMITS.kept_error_bytes
    assert peak < 12 << 20  # chunks and buffers, never the 24 MiB string


@pytest.mark.parametrize("format_name", sorted(FOLDERS))
@pytest.mark.parametrize("packing", ["zip", "gztar"])
@given(data=st.data())
def test_a_damaged_zip_or_tar_export_makes_no_import_raise(format_name, packing, data, fuzz_archive):
    with Workdir() as work:
        packed = Path(shutil.make_archive(str(work / "export"), packing, FOLDERS[format_name]))
        broken = data.draw(damaged(packed.read_bytes()))
        packed.write_bytes(broken)
        result = import_file(fuzz_archive, format_name, str(packed), workers=0)
    assert result.status in ("ok", "failed")
    assert not unexpected(result), result.error


# --- good records with hostile values inside ---------------------------------------------------------

JSON_LINE_FORMATS = sorted(f for f in LINE_FORMATS if f != "urls")
HOSTILE_VALUES = st.one_of(
    st.sampled_from([None, True, 0, -1, 2**70, 1.5, "", "x" * 5000, [], {}, ["a", "b"], {"a": "b"}, [[["deep"]]]]),
    st.sampled_from([400, 980]).map(lambda depth: json.loads("[" * depth + "]" * depth)),
    st.text(max_size=50),
)


def _key_paths(value, prefix=(), depth=0):
    if isinstance(value, dict) and depth < 4:
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _key_paths(inner, (*prefix, key), depth + 1)
    elif isinstance(value, list) and value and depth < 4:
        yield (*prefix, 0)
        yield from _key_paths(value[0], (*prefix, 0), depth + 1)


def _replaced(record, path, value):
    record = json.loads(json.dumps(record))
    holder = record
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return record


@pytest.mark.parametrize("format_name", JSON_LINE_FORMATS)
@given(data=st.data())
def test_hostile_values_inside_good_records_never_escape(format_name, data, fuzz_archive):
    lines = [line for line in LINE_FORMATS[format_name].splitlines() if line.strip()]
    readable = [i for i, line in enumerate(lines) if isinstance(_json_or_none(line), dict)]
    index = data.draw(st.sampled_from(readable))
    path = data.draw(st.sampled_from(list(_key_paths(json.loads(lines[index])))))
    lines[index] = json.dumps(_replaced(json.loads(lines[index]), path, data.draw(HOSTILE_VALUES))).encode()
    note(f"line {index + 1}, {path}")
    with Workdir() as work:
        target = _write(work / "values.jsonl", b"\n".join(lines) + b"\n")
        result = import_file(fuzz_archive, format_name, str(target), workers=0)
    assert not unexpected(result), result.error
    if result.status == "failed":
        # Only where the changed record was the file's only post: then no
        # post was read, which an import says (scraper/nothing_read.py).
        assert result.stats.parse_errors == result.stats.items and "no post read" in result.error, result.error
    else:
        assert result.status == "ok", result.error
    assert result.stats.items >= len(readable) - 1  # (the changed record may hold no post: an empty page)


def _json_or_none(line: bytes):
    try:
        return json.loads(line)
    except ValueError:
        return None


@pytest.mark.parametrize("format_name", [*sorted(ARRAYS), "mastodon-statuses"])
@given(data=st.data())
def test_hostile_values_inside_good_array_elements_never_escape(format_name, data, fuzz_archive):
    if format_name == "mastodon-statuses":
        elements = [json.dumps(v).encode() for v in json.loads(WHOLE_FILES[format_name].read_text())]
    else:
        elements = _array_elements(format_name)
    index = data.draw(st.integers(0, len(elements) - 1))
    path = data.draw(st.sampled_from(list(_key_paths(json.loads(elements[index])))))
    elements[index] = json.dumps(_replaced(json.loads(elements[index]), path, data.draw(HOSTILE_VALUES))).encode()
    note(f"element {index}, {path}")
    with Workdir() as work:
        if format_name == "mastodon-statuses":
            target = _write(work / "statuses.json", _array_file(b"", elements, b""))
        else:
            target = _write_array(work / "export", format_name, elements)
        result = import_file(fuzz_archive, format_name, str(target), workers=0)
    assert result.status == "ok", result.error
