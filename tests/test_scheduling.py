"""The scheduling recipes in deploy/ are parsed, and their command lines are
checked against the CLI's real options (docs/scheduling.md)."""

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scraper.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def reactions_args(command_line: str) -> list[str]:
    """The arguments given to `reactions` in a shell command line."""
    words = shlex.split(command_line.split(">>")[0].split("|")[0])
    start = next(i for i, w in enumerate(words) if w.endswith("reactions"))
    end = next((i for i, w in enumerate(words[start:], start) if w in ("&&", ";")), len(words))
    return words[start + 1:end]


def check_cli_accepts(args: list[str]) -> None:
    command = cli.commands[args[0]]
    context = command.make_context(args[0], list(args[1:]), resilient_parsing=False)
    assert context.params


def test_crontab_line():
    lines = [l for l in (DEPLOY / "cron" / "reaction-archive.cron").read_text().splitlines() if l and not l.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    minute, hour, day, month, weekday, command = fields
    assert re.fullmatch(r"\d{1,2}", minute) and 0 <= int(minute) < 60
    assert re.fullmatch(r"\d{1,2}", hour) and 0 <= int(hour) < 24
    assert (day, month, weekday) == ("*", "*", "*")
    args = reactions_args(command)
    assert args[0] == "scrape" and "--log-format" in args
    check_cli_accepts(args)


def unit(name, strict=True):
    parser = configparser.ConfigParser(strict=strict, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


def test_systemd_units_parse():
    service = unit("reaction-archive-scrape.service")
    assert service["Service"]["Type"] == "oneshot"
    check_cli_accepts(reactions_args(service["Service"]["ExecStart"]))
    timer = unit("reaction-archive-scrape.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 03:15:00"
    assert timer["Install"]["WantedBy"] == "timers.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    reactions = shutil.which("reactions") or str(Path(__import__("sys").executable).parent / "reactions")
    if not Path(reactions).exists():
        pytest.skip("reactions console script not installed")
    for name in ("reaction-archive-scrape.service", "reaction-archive-scrape.timer"):
        text = (DEPLOY / "systemd" / name).read_text()
        text = text.replace("/srv/reaction-archive/.venv/bin/reactions", reactions)
        text = text.replace("/srv/reaction-archive", str(tmp_path)).replace("User=reactions", "User=root")
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(tmp_path / "reaction-archive-scrape.service"), str(tmp_path / "reaction-archive-scrape.timer")],
        capture_output=True, text=True,
    )
    ours = [l for l in (result.stdout + result.stderr).splitlines() if "reaction-archive" in l]
    assert ours == [], ours


def test_github_workflow():
    workflow = yaml.safe_load((DEPLOY / "github" / "nightly.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    cron = triggers["schedule"][0]["cron"]
    assert len(cron.split()) == 5
    steps = workflow["jobs"]["scrape"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    scrape_line = next(l for l in runs.splitlines() if "reactions scrape" in l)
    check_cli_accepts(reactions_args(scrape_line))
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in steps)
    secrets = [v for step in steps for v in (step.get("env") or {}).values()]
    assert all("secrets." in v or "github.token" in v or "vars." in v for v in secrets)  # never a literal


# --- sharded scrapes (docs/scaling.md) ------------------------------------------------


def test_sharded_systemd_units_parse():
    service = unit("reactions-scrape@.service")
    args = reactions_args(service["Service"]["ExecStart"])
    assert args[0] == "scrape" and args[args.index("--shard") + 1] == "%i/${SHARDS}"
    assert "shard-%i.db" in args
    check_cli_accepts(args)
    assert unit("reactions-scrape@.timer")["Install"]["WantedBy"] == "timers.target"
    merge = unit("reactions-merge.service", strict=False)["Service"]  # (ExecStartPost= is repeated)
    merge_args = reactions_args(merge["ExecStart"])
    assert merge_args[0] == "merge"
    check_cli_accepts(merge_args)
    serve_args = reactions_args(unit("reactions-serve.service")["Service"]["ExecStart"])
    assert "--immutable" in serve_args and "--inspect-file" in serve_args
    check_cli_accepts(serve_args)


def test_sharded_github_workflow():
    workflow = yaml.safe_load((DEPLOY / "github" / "sharded.yml").read_text())
    scrape, merge = workflow["jobs"]["scrape"], workflow["jobs"]["merge"]
    shards = scrape["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(workflow["env"]["SHARDS"]) + 1))
    runs = "\n".join(step.get("run", "") for step in scrape["steps"])
    line = next(l for l in runs.splitlines() if "reactions scrape" in l)
    args = reactions_args(line.replace("${{ matrix.shard }}", "2").replace("$SHARDS", "3"))
    assert args[args.index("--shard") + 1] == "2/3"
    check_cli_accepts(args)
    assert merge["needs"] == "scrape"
    merge_runs = "\n".join(step.get("run", "") for step in merge["steps"])
    check_cli_accepts(reactions_args(next(l for l in merge_runs.splitlines() if "reactions merge" in l)))
    assert "datasette inspect" in merge_runs
    secrets = [v for job in (scrape, merge) for step in job["steps"] for v in (step.get("env") or {}).values()]
    assert all("secrets." in v or "github.token" in v or "vars." in v for v in secrets)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_sharded_systemd_analyze_verify(tmp_path):
    bin_dir = Path(__import__("sys").executable).parent
    if not (bin_dir / "reactions").exists():
        pytest.skip("reactions console script not installed")
    names = {"reactions-scrape@.service": "reactions-scrape@2.service", "reactions-scrape@.timer": "reactions-scrape@2.timer",
             "reactions-merge.service": "reactions-merge.service", "reactions-serve.service": "reactions-serve.service"}
    for name, instance in names.items():
        text = (DEPLOY / "systemd" / name).read_text().replace("/srv/reaction-archive/.venv/bin", str(bin_dir))
        text = text.replace("/srv/reaction-archive", str(tmp_path)).replace("User=reactions", "User=root")
        text = text.replace("EnvironmentFile=/etc/reaction-archive/env", f"EnvironmentFile=-{tmp_path}/env")
        (tmp_path / instance).write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *[str(tmp_path / n) for n in names.values()]],
                            capture_output=True, text=True)
    ours = [l for l in (result.stdout + result.stderr).splitlines() if "reactions-" in l]
    assert ours == [], ours
