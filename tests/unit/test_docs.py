"""The README and docs/ tell the truth: the command reference is what the commands print, every command
has its section, links lead somewhere, the commands the README gives exist, and bench/run writes
docs/performance.md without touching its hand-written text."""

import importlib
import re
import runpy
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS_DOC = ROOT / "docs" / "commands.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def cli_module():
    """`schedcli.cli`, a module or a package: its root group `cli` and its table `COMMANDS`."""
    return importlib.import_module("schedcli.cli")


def test_command_reference_matches_help():
    generator = runpy.run_path(str(ROOT / "scripts" / "command-reference"))
    assert COMMANDS_DOC.read_text(encoding="utf-8") == generator["reference"](), (
        "docs/commands.md is out of date: run .venv/bin/python scripts/command-reference --write")


def test_every_command_has_its_section_in_the_reference():
    reference = COMMANDS_DOC.read_text(encoding="utf-8")
    commands = getattr(cli_module(), "COMMANDS")
    assert commands
    for name in commands:
        assert f"\n## schedcli {name}\n" in reference, f"docs/commands.md has no section for {name}"


def test_the_readme_shows_every_command():
    for name in getattr(cli_module(), "COMMANDS"):
        assert re.search(rf"schedcli (--app \S+ )?{re.escape(name)}\b", README), f"the README never shows {name}"


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pytest" in README
    assert ci.rstrip().splitlines()[-1] == ".venv/bin/python -m pytest"


def test_quickstart_scripts_exist_and_are_valid_bash():
    for script in ("scripts/demo", ".ci/run"):
        assert f"bash {script}" in README
    for script in ("scripts/demo", "scripts/ensure-rabbitmq", ".ci/run"):
        subprocess.run(["bash", "-n", str(ROOT / script)], check=True)


def test_readme_stays_the_front_door():
    assert len(README.encode("utf-8")) < 12 * 1024, "the README is over 12 KB: move the detail into docs/"


# -- links ---------------------------------------------------------------------------------------------

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of `page`."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    slugs = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        slugs.add(slug)
    return slugs


def relative_links(page: Path):
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        yield target


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in relative_links(page):
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        shown = destination.relative_to(ROOT).as_posix() if destination.is_relative_to(ROOT) else str(destination)
        if not destination.exists():
            broken.append(f"{target} ({shown} does not exist)")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {shown})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_readme_links_every_docs_page():
    linked = {target.partition("#")[0] for target in relative_links(ROOT / "README.md")}
    for page in (ROOT / "docs").glob("*.md"):
        assert f"docs/{page.name}" in linked, f"the README does not link docs/{page.name}"


# -- exit codes ----------------------------------------------------------------------------------------

def test_exit_code_table_lists_every_exit_code_schedcli_uses():
    from schedcli import exceptions

    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    table = {int(code) for code in re.findall(r"^\| (\d+) \| .+ \|$", text, re.MULTILINE)}
    raised = {cls.exit_code for cls in vars(exceptions).values()
              if isinstance(cls, type) and issubclass(cls, exceptions.SchedcliError)}
    assert raised | {0, 1, 2, 70} == table


# -- docs/performance.md, written by bench/run ---------------------------------------------------------

@pytest.fixture
def suite(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    for name in [name for name in sys.modules if name == "bench" or name.startswith("bench.")]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module("bench.suite")


def test_bench_writes_its_figures_between_the_markers_and_keeps_the_rest(suite, tmp_path):
    from bench.harness import Row, Target

    doc = tmp_path / "performance.md"
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert page.count(suite.FIGURES_START) == 1 and page.count(suite.FIGURES_END) == 1
    doc.write_text(page, encoding="utf-8")
    before, after = page.split(suite.FIGURES_START)[0], page.split(suite.FIGURES_END)[1]

    rows = [
        Row("1 start-up: schedcli --help", 40.0, 200.0, "ms", Target(0.4, on_ratio=True), "celery --help"),
        Row("4 bulk send | pipes", 9_000.0, 650.0, "jobs/s", Target(10_000, at_least=True), note="fake"),
        Row("5 lateness: p50", 0.96, 0.95, "ms"),
    ]
    host = {"cores": "2", "cpu": "Fake CPU @ 1 GHz", "os": "Linux-6", "python": "3.11.7", "rabbitmq": "4.0.5"}
    when = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
    for _ in range(2):  # a second run replaces the first one's figures
        suite.write_figures(suite.figures_markdown(rows, when=when, seconds=421.4, host=host,
                                                   errors={"memory": ["RuntimeError: a", "RuntimeError: b"]}),
                            doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith(before + suite.FIGURES_START) and text.endswith(suite.FIGURES_END + after)
    section = text.split(suite.FIGURES_START)[1].split(suite.FIGURES_END)[0]
    assert "2026-12-01 08:30 UTC" in section and "421 s" in section
    assert "2 cores (Fake CPU @ 1 GHz)" in section and "Python 3.11.7" in section and "RabbitMQ 4.0.5" in section
    table = [line for line in section.splitlines() if line.startswith("| ")]
    assert table[0] == "| figure | schedcli | baseline | ratio | target | met | notes |"
    assert table[1] == "| 1 start-up: schedcli --help | 40.0 ms | 200 ms | 0.20x | ratio <= 0.4 | yes | baseline: celery --help |"
    assert table[2] == "| 4 bulk send \\| pipes | 9,000 jobs/s | 650 jobs/s | 13.85x | >= 10,000 jobs/s | **NO** | fake |"
    assert table[3] == "| 5 lateness: p50 | 0.96 ms | 0.95 ms | 1.01x | - | - | - |"
    assert len(table) == 4
    assert "Figure `memory` FAILED: RuntimeError: a / RuntimeError: b" in section


def test_bench_refuses_a_page_without_its_markers(suite, tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n", encoding="utf-8")
    with pytest.raises(ValueError, match="lacks the markers"):
        suite.write_figures("anything", doc)
    assert doc.read_text(encoding="utf-8") == "# Performance\n"


def test_only_a_full_run_writes_the_docs(suite, monkeypatch, tmp_path):
    """--quick, --only and --no-write-docs never write docs/performance.md; a full run does."""
    from bench.harness import Row

    written = []
    monkeypatch.setattr(suite, "write_figures", lambda section, *args: written.append(section))
    monkeypatch.setattr(suite, "machine", lambda: {"cores": "2", "cpu": "x", "os": "y", "python": "3", "rabbitmq": "z"})
    monkeypatch.setattr(suite, "scratch_folder", lambda: _Scratch(tmp_path))
    monkeypatch.setattr(suite, "FIGURES", {name: (lambda bench, name=name: [Row(name, 1.0, 2.0, "ms")])
                                           for name in suite.FIGURES})
    assert suite.main(["--quick"]) == 0
    assert suite.main(["--only", "startup"]) == 0
    assert suite.main(["--no-write-docs"]) == 0
    assert written == []
    assert suite.main([]) == 0
    assert len(written) == 1 and "| startup | 1.00 ms | 2.00 ms | 0.50x |" in written[0]


class _Scratch:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return str(self.path)

    def __exit__(self, *exc):
        return False
