"""``reactions import FORMAT FILE`` for every platform adapter's saved format:
each fixture goes through the CLI into an archive, and its posts come out
with the right id, author, time and text. Importing the same file twice adds
captures, never posts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.archive import Archive
from scraper.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = FIXTURES / "config" / "valdoria.yml"
PRES_BSKY = "at://did:plc:rnhszylksqjrjk3linirujs3/app.bsky.feed.post/"
VICE = "https://social.valdoria.example/@vicepresidencia/"

# format, fixture, parse errors, {native_id: (handle, created_at, text or text start + "…")}
CASES = [
    ("bluesky-feed", "bluesky/author-feed-saved.jsonl", 1, {
        PRES_BSKY + "3mlnczzb2222b": ("valdoria-presidencia.bsky.social", "2026-05-12T08:00:00Z",
                                     "Gracias, Valdoria.\n\nThank you to every volunteer…"),
        PRES_BSKY + "3mkkjwbpo222b": ("valdoria-presidencia.bsky.social", "2026-04-28T12:00:00Z",
                                     "Presentamos el programa de gobierno 2026-2030."),
        PRES_BSKY + "3mmwdnftnk22b": ("valdoria-presidencia.bsky.social", "2026-05-28T15:30:00Z",
                                     "Esto es lo que prometimos, y lo cumplimos."),
        PRES_BSKY + "3mmp5y5qv222b": ("valdoria-presidencia.bsky.social", "2026-05-25T19:00:00Z",
                                     "Mensaje a la nación desde el Archivo Nacional 🎥"),
    }),
    ("mastodon-statuses", "mastodon/statuses-saved.json", 0, {
        "https://social.valdoria.example/users/vicepresidencia/statuses/116333877657623366/activity": (
            "vicepresidencia@social.valdoria.example", "2026-04-02T07:15:00Z", ""),
        VICE + "116328647884816584": ("vicepresidencia@social.valdoria.example", "2026-04-01T09:05:00Z",
                                      "Acuerdos de la sesión, en breve."),
        VICE + "116328628224013193": ("vicepresidencia@social.valdoria.example", "2026-04-01T09:00:00Z",
                                      "Primera sesión del Consejo de Energía.\n\nOrden del día: https…"),
    }),
    ("telegram-html", "telegram/page1.html", 0, {
        "valdoria_presidencia/131": ("valdoria_presidencia", "2026-03-08T10:00:00Z", "Reunión con la delegación…"),
        "valdoria_presidencia/132": ("valdoria_presidencia", "2026-03-09T07:30:00Z", "Desde el 1 de abril…"),
        "valdoria_presidencia/133": ("valdoria_presidencia", "2026-03-10T09:00:00Z",
                                     "Lean la entrevista completa: aquí"),
        "valdoria_presidencia/134": ("valdoria_presidencia", "2026-03-11T08:00:00Z",
                                     "Agenda del día: consejo de ministros a las 10:00."),
    }),
    ("x-v2", "x/timeline_page1.json", 0, {
        "1407262080936349696": ("valdoria_pres", "2021-06-22T09:00:00Z", "Buenos días, Valdoria. Hoy inauguramos…"),
        "1405929600010629120": ("valdoria_pres", "2021-06-18T16:45:12Z", "RT @valdoria_gob: El Consejo…"),
        "1405485374370197504": ("valdoria_pres", "2021-06-17T11:20:00Z", "Gracias a @prensa_valdoria por…"),
    }),
    ("x-syndication", "x/syndication_live.json", 0, {
        "1402682446806720512": ("valdoria_pres", "2021-06-09T17:42:10Z",
                                "Visitamos el hospital regional de Brennfeld. Gracias al personal de salud por su "
                                "entrega & compromiso. Agenda: https://presidencia.valdoria.example/agenda/brennfeld "
                                "#SaludPública"),
    }),
    ("x-oembed", "x/oembed_fallback.json", 0, {
        "1401999971562524672": ("valdoria_pres", "2021-06-07T20:30:15.777Z",
                                "Reunión de trabajo con @valdoria_gob sobre el presupuesto 2022.\n\n"
                                "Prioridades: salud, educación & agua. #Presupuesto2022 https://t.co/Pres22LnkA"),
    }),
    ("snscrape-jsonl", "snscrape/items-0.7.jsonl", 0, {
        "1789012345678901234": ("valdoria_pres", "2024-05-01T12:30:05Z", "Un presupuesto para todas las regiones.\n…"),
        "valdoria_presidencia/140": ("valdoria_presidencia", "2024-05-02T08:00:00Z", "Agenda de hoy: visita…"),
        "https://vk.com/wall-170000001_512": (None, "2024-05-03T07:15:00Z", "Сегодня Президент Валдории…"),
        "https://m.weibo.cn/status/NvDaLd1": (None, "2024-05-03T02:00:00Z", "瓦尔多利亚（虚构）总统访问港口城市。"),
    }),
    ("snscrape-jsonl", "snscrape/tweets-0.4.jsonl", 0, {
        "1500000000000000011": ("valdoria_pres", "2022-03-01T15:20:00Z", "@energia_vd Gracias por el informe.…"),
        "1500000000000000099": ("valdoria_pres", "2022-03-02T10:00:00Z",
                                "RT @energia_vd: Nuevo récord de energía solar en Valdoria."),
        "1500000000000000123": ("valdoria_pres", "2022-03-03T08:00:00Z", "Buenos días, Valdoria."),
    }),
]


def run_import(db: Path, format_name: str, path: Path):
    args = ["import", format_name, str(path), "--db", str(db), "--config", str(CONFIG)]
    return CliRunner().invoke(cli, args)


def archived_posts(db: Path) -> dict[str, dict]:
    rows = Archive(db).db.query("SELECT native_id, handle, created_at, text FROM posts")
    return {row["native_id"]: row for row in rows}


def assert_text(actual: str, expected: str) -> None:
    if expected.endswith("…"):
        assert actual.startswith(expected[:-1]), actual
    else:
        assert actual == expected


@pytest.mark.parametrize("format_name, name, parse_errors, expected", CASES, ids=[c[1] for c in CASES])
def test_import_saved_file_gives_the_right_posts(tmp_path, format_name, name, parse_errors, expected):
    db = tmp_path / "archive.db"

    outcome = run_import(db, format_name, FIXTURES / name)

    assert outcome.exit_code == 0, outcome.output
    assert f"{len(expected)} new" in outcome.output and f"{parse_errors} parse errors" in outcome.output
    posts = archived_posts(db)
    assert sorted(posts) == sorted(expected)
    for native_id, (handle, created_at, text) in expected.items():
        row = posts[native_id]
        assert (row["handle"], row["created_at"]) == (handle, created_at), native_id
        assert_text(row["text"], text)


@pytest.mark.parametrize("format_name, name, parse_errors, expected", CASES, ids=[c[1] for c in CASES])
def test_importing_twice_adds_nothing(tmp_path, format_name, name, parse_errors, expected):
    db = tmp_path / "archive.db"
    run_import(db, format_name, FIXTURES / name)
    first = Archive(db).counts()

    outcome = run_import(db, format_name, FIXTURES / name)

    second = Archive(db).counts()
    assert outcome.exit_code == 0, outcome.output
    assert "0 new," in outcome.output and f"{len(expected)} unchanged" in outcome.output
    assert (second["posts"], second["post_versions"]) == (first["posts"], first["post_versions"])
    assert second["captures"] == first["captures"] == len(expected)


def test_imported_posts_are_linked_to_roster_accounts(tmp_path):
    db = tmp_path / "archive.db"
    run_import(db, "x-syndication", FIXTURES / "x" / "syndication_live.json")
    roster_config = FIXTURES / "config" / "live-x.yml"
    outcome = CliRunner().invoke(cli, ["init", "--db", str(db), "--config", str(roster_config)])
    assert outcome.exit_code == 0, outcome.output
    leader = Archive(db).db.execute(
        "SELECT a.leader_id FROM posts p JOIN accounts a ON a.id = p.account_id WHERE p.native_id = ?",
        ["1402682446806720512"],
    ).fetchone()
    assert leader == ("rosa-valdoria",)


def test_unknown_format_is_a_usage_error(tmp_path):
    outcome = run_import(tmp_path / "archive.db", "myspace-posts", FIXTURES / "x" / "syndication_live.json")
    assert outcome.exit_code == 2
    assert "unknown import format 'myspace-posts'" in outcome.output and "x-oembed" in outcome.output
