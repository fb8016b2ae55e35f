"""Partitioned Parquet (issue 16): ``reactions export --format parquet
--partition election,platform,month`` writes a Hive layout that DuckDB reads
as it is, with the same counts as the archive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.export import export_package, verify_package
from scraper.partitioned import DEFAULT_PARTITION, folder_value

PARTITION = ("election", "platform", "month")


@pytest.fixture(scope="module")
def lake(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lake") / "lake"
    result = CliRunner().invoke(cli, ["export", str(folder), "--db", str(demo_db), "--format", "parquet",
                                      "--partition", ",".join(PARTITION)])
    assert result.exit_code == 0, result.output
    return folder


def read(lake: Path, sql: str) -> list[tuple]:
    """``sql`` over the export as DuckDB users read it (``FROM parts``)."""
    parts = f"read_parquet('{lake}/data/reactions/**/*.parquet', hive_partitioning = true)"
    return duckdb.connect().execute(sql.replace("parts", parts)).fetchall()


def test_duckdb_reads_the_same_counts_as_the_archive(lake, demo_db):
    with sqlite3.connect(demo_db) as conn:
        per_country_and_type = conn.execute(
            "SELECT country_code, reaction_type, count(*) FROM reactions GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        per_partition = conn.execute(
            "SELECT election, platform, substr(created_at, 1, 7), count(*) FROM reactions GROUP BY 1, 2, 3 "
            "ORDER BY 1, 2, 3").fetchall()
        total = conn.execute("SELECT count(*) FROM reactions").fetchone()[0]
    assert len(per_country_and_type) > 10 and len({row[1] for row in per_country_and_type}) >= 3
    assert len(per_partition) > 3
    assert read(lake, "SELECT country_code, reaction_type, count(*) FROM parts GROUP BY ALL ORDER BY 1, 2") \
        == per_country_and_type
    assert read(lake, "SELECT election, platform, month, count(*) FROM parts GROUP BY ALL ORDER BY 1, 2, 3") \
        == per_partition
    # A query on one partition reads its folder alone.
    month = per_partition[0][2]
    assert read(lake, f"SELECT count(*) FROM parts WHERE month = '{month}' AND platform = '{per_partition[0][1]}'") \
        == [(per_partition[0][3],)]
    assert read(lake, "SELECT count(DISTINCT post_id) FROM parts") == [(total,)]


def test_layout_and_descriptor(lake):
    descriptor = json.loads((lake / "datapackage.json").read_text())
    resource = next(r for r in descriptor["resources"] if r["name"] == "reactions")
    files = sorted(p.relative_to(lake).as_posix() for p in (lake / "data" / "reactions").rglob("*.parquet"))
    assert resource["path"] == files and len(files) > 1
    assert all(path.count("/") == 5 and "/election=" in path and path.endswith("/part-0.parquet") for path in files)
    partitioning = resource["partitioning"]
    assert partitioning["style"] == "hive" and partitioning["columns"] == list(PARTITION)
    assert sum(part["rows"] for part in partitioning["parts"]) == descriptor["reaction_archive"]["rows"]["reactions"]
    # The partition columns live in the folder names only, as Hive writes them.
    fields = [f["name"] for f in resource["schema"]["fields"]]
    assert "election" not in fields and "platform" not in fields and "created_at" in fields
    assert pq.read_schema(lake / files[0]).names == fields
    assert verify_package(lake) == []


def test_the_same_archive_gives_the_same_bytes(lake, demo_db, tmp_path):
    again = export_package(demo_db, tmp_path / "again", format_name="parquet", partition=PARTITION, batch_size=100)
    first = (lake / "SHA256SUMS").read_text()
    assert again.rows["reactions"] == json.loads((lake / "datapackage.json").read_text())["reaction_archive"]["rows"]["reactions"]
    # (row groups follow the batch size, which is part of the bytes: the default gives the same files)
    default = export_package(demo_db, tmp_path / "default", format_name="parquet", partition=PARTITION)
    assert (tmp_path / "default" / "SHA256SUMS").read_text() == first and default.rows == again.rows


def test_partition_values_and_refusals(demo_db, tmp_path):
    assert folder_value(None) == folder_value("") == DEFAULT_PARTITION
    assert folder_value("a/b=c d") == "a%2Fb%3Dc%20d"
    runner = CliRunner()
    csv = runner.invoke(cli, ["export", str(tmp_path / "a"), "--db", str(demo_db), "--partition", "platform"])
    assert csv.exit_code == 2 and "--format parquet" in csv.output
    unknown = runner.invoke(cli, ["export", str(tmp_path / "b"), "--db", str(demo_db), "--format", "parquet",
                                  "--partition", "election,colour"])
    assert unknown.exit_code == 2 and "colour" in unknown.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_partitioned_by_reaction_type(demo_db, tmp_path):
    folder = tmp_path / "by-type"
    result = export_package(demo_db, folder, format_name="parquet", partition=("election", "reaction_type"))
    with sqlite3.connect(demo_db) as conn:
        per_type = conn.execute("SELECT election, reaction_type, count(*) FROM reactions GROUP BY 1, 2 "
                                "ORDER BY 1, 2").fetchall()
    folders = sorted(p.parent.name for p in (folder / "data" / "reactions").rglob("*.parquet"))
    assert folders == sorted(f"reaction_type={folder_value(row[1])}" for row in per_type)
    assert read(folder, "SELECT election, reaction_type, count(*) FROM parts GROUP BY ALL ORDER BY 1, 2") == per_type
    assert result.rows["reactions"] == sum(row[2] for row in per_type)
    assert verify_package(folder) == []
