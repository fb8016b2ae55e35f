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
    "self-referring alias": "loop: &loop [*loop]\n" + BASE,
    "self-referring alias in a leader": BASE.replace("    aliases: [Tomas Imaginario]", "    aliases: &me [*me]"),
    "nested too deep": "deep: " + "[" * 50_000 + "]" * 50_000 + "\n" + BASE,
    "block lists nested too deep": "deep: " + "- " * 50_000 + "x\n" + BASE,
    "mappings indented too deep": "".join(" " * level + f"k{level}:\n" for level in range(200)) + BASE,
    "nested too deep through aliases": BASE.replace(
        "    aliases: [Tomas Imaginario]",
        "    aliases: &n0 [T]\n" + "".join(f"    notes{n}: &n{n} [*n{n - 1}]\n" for n in range(1, 80)),
    ),
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
    assert "key 'roster': required key is missing (give roster: or roster_files:)" in str(info.value)


@pytest.mark.parametrize("case, said", [
    ("alias bomb at the top", "values once aliases are expanded"),
    ("alias bomb in a leader", "values once aliases are expanded"),
    ("self-referring alias", "contains itself"),
    ("self-referring alias in a leader", "contains itself"),
    ("block lists nested too deep", "nested more than 64 deep"),
    ("mappings indented too deep", "nested more than 64 deep"),
    ("nested too deep through aliases", "nested more than 64 deep"),
])
def test_what_expands_too_far_is_refused_for_what_it_is(case, said):
    """Measured on the composed nodes, each once (whichever YAML parser
    composed them): an alias bomb costs no more than its few lines."""
    path = write(None, BROKEN[case])
    try:
        with hang_guard(5, case), pytest.raises(Exception) as info:
            load_config(path)
    finally:
        path.unlink()
    assert said in str(info.value)


def test_many_aliases_of_one_anchor_are_fine():
    """Anchors are a fair way to share a role between leaders: only what
    they expand to is bounded, not how often they are used."""
    role = "      - &candidate {title: Presidential candidate, kind: candidate, start: 2021-03-01, end: 2021-06-30}\n"
    text = BASE.replace("      - {title: Presidential candidate, kind: candidate, start: 2021-03-01, end: 2021-06-30}\n", role)
    extra = "".join(
        f"  - {{id: leader-{n}, name: Leader {n}, country: UY, roles: [*candidate]}}\n" for n in range(500)
    )
    text = text.replace("\nsources:\n", "\n" + extra.rstrip("\n") + "\nsources:\n")
    path = write(None, text)
    try:
        config = load_config(path)
    finally:
        path.unlink()
    assert len(config.leaders) == 504 and config.leader("leader-499").roles[0].kind == "candidate"


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
