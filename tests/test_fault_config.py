"""Fault suite: broken configs are refused at once, with FILE:LINE.

Each top-level key missing, each with a value of the wrong type, YAML alias
bombs and self-referring aliases, nesting too deep, date-times without an
offset, source files that do not exist, bad limits: `reactions init` exits
with code 2 and a message that names the file and the line. A hang guard
(tests/fault_helpers.py) fails any case that runs away.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import load_config

from .conftest import VALDORIA_CONFIG
from .fault_helpers import hang_guard

BASE = VALDORIA_CONFIG.read_text(encoding="utf-8")
TOP_KEYS = ("election", "roster", "sources", "contact")


def without(key: str, text: str = BASE) -> str:
    out, skipping = [], False
    for line in text.splitlines():
        if re.match(rf"^{key}:", line):
            skipping = True
            continue
        if skipping and (line.startswith((" ", "#")) or not line.strip()):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["x0: &x0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"x{level}: &x{level} [" + ", ".join([f"*x{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


BROKEN = {
    **{f"missing {key}": without(key) for key in ("election", "roster")},
    **{f"{key} of the wrong type": without(key) + f"{key}: {value}\n"
       for key, value in (("election", "5"), ("roster", "{a: 1}"), ("sources", "just text"),
                          ("contact", "[1, 2]"), ("limits", "[1]"))},
    "top level a list": "- election\n- roster\n",
    "top level text": "an election\n",
    "empty": "",
    "alias bomb at the top": bomb() + BASE,
    "alias bomb in a leader": BASE.replace(
        "    aliases: [Tomas Imaginario]",
        "    aliases: &a0 [T, T, T, T, T, T, T, T, T]\n"
        + "".join(f"    notes{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]\n" for n in range(1, 8)),
    ),
    "too many aliases": "base: &b x\nmany: [" + ", ".join(["*b"] * 500) + "]\n" + BASE,
    "self-referring alias": "loop: &loop [*loop]\n" + BASE,
    "nested too deep": "deep: " + "[" * 50_000 + "]" * 50_000 + "\n" + BASE,
    "time without offset": BASE.replace("2021-06-07T21:00:00-03:00", "2021-06-07T21:00:00"),
    "window time without offset": BASE.replace("window: {start: 2021-06-06,", "window: {start: 2021-06-06T08:00,"),
    "source file missing": BASE.replace("../article/news-embeds.html", "../article/no-such-page.html"),
    "limit not a size": BASE + "limits: {max_response_bytes: lots}\n",
    "limit not seconds": BASE + "limits: {request_deadline: soon}\n",
    "limit unknown": BASE + "limits: {max_posts: 5}\n",
    "not YAML": BASE + "election: [unclosed\n",
    "not UTF-8": BASE.replace("Tomás", "Tom\udcfas"),
}


def write(tmp_path, text: str):
    # The config sits beside the fixtures so that its relative source path resolves.
    path = VALDORIA_CONFIG.parent / f".broken-{abs(hash(text)) % 10**8}.yml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_config_is_refused_at_once_with_file_and_line(case, tmp_path):
    path = write(tmp_path, BROKEN[case])
    try:
        with hang_guard(20, f"loading the config '{case}'"):
            result = CliRunner().invoke(cli, ["init", "--config", str(path), "--db", str(tmp_path / "a.db")])
    finally:
        path.unlink()
    assert result.exit_code == 2, result.output
    message = result.output.strip().splitlines()
    assert len(message) == 1 and message[0].startswith(f"Error: {path}"), result.output
    if case not in ("empty", "not UTF-8"):
        assert re.match(rf"Error: {re.escape(str(path))}:\d+", message[0]), result.output
    assert not (tmp_path / "a.db").exists()  # nothing was created


def test_missing_top_level_key_names_the_key():
    path = write(None, without("roster"))
    try:
        with hang_guard(20):
            with pytest.raises(Exception) as info:
                load_config(path)
    finally:
        path.unlink()
    assert "key 'roster': required key is missing" in str(info.value)


def test_without_sources_or_contact_the_config_loads():
    for key in ("sources", "contact"):
        path = write(None, without(key))
        try:
            config = load_config(path)
        finally:
            path.unlink()
        assert config.leaders


def test_limits_are_read_with_units():
    path = write(None, BASE + "limits:\n  max_response_bytes: 8 MiB\n  request_deadline: 30\n  max_element_bytes: 1000000\n")
    try:
        config = load_config(path)
    finally:
        path.unlink()
    assert config.limits.max_response_bytes == 8 << 20
    assert config.limits.request_deadline == 30
    assert config.limits.max_element_bytes == 1_000_000
    assert config.limits.request_timeout == 20  # the default
