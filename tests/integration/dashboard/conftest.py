"""The dashboard rendered from the sample world, once per backend, and read back as data.

`dashboard_reports[backend]` writes the report of the session's built warehouse
(`built_worlds`) to a file and parses it: each section with its status, its charts (how many
data marks each SVG draws) and its figure tables as text, exactly as a reader sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from api.dashboard import write_report
from tests.conftest import PerBackend
from tests.integration.conftest import Built


@dataclass
class ParsedChart:
    key: str
    svgs: int = 0
    mark_groups: int = 0  # Vega mark containers (`role-mark`) with at least one item
    mark_items: int = 0  # the items drawn inside them (bars, points, line paths…)


@dataclass
class ParsedTable:
    key: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def column(self, header: str) -> list[str]:
        index = self.headers.index(header)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]


@dataclass
class ParsedSection:
    key: str
    status: str
    charts: list[ParsedChart] = field(default_factory=list)
    tables: dict[str, ParsedTable] = field(default_factory=dict)
    panel: str | None = None  # the text of the "no data" panel, if shown


class PageParser(HTMLParser):
    """Reads the structure `api.dashboard.page` writes: sections, charts, tables, panels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: dict[str, ParsedSection] = {}
        self.tags: list[str] = []  # every start tag, for the self-containment checks
        self._section: ParsedSection | None = None
        self._chart: ParsedChart | None = None
        self._groups: list[list[bool]] = []  # per open <g>: [is a mark group, counted]
        self._table: ParsedTable | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False
        self._panel: list[str] | None = None

    def _child_of_mark_group(self) -> None:
        if self._chart is not None and self._groups and self._groups[-1][0]:
            self._chart.mark_items += 1
            if not self._groups[-1][1]:
                self._groups[-1][1] = True
                self._chart.mark_groups += 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = {name: value or "" for name, value in attrs}
        if tag == "section" and "data-section" in a:
            self._section = ParsedSection(a["data-section"], a.get("data-status", ""))
            self.sections[self._section.key] = self._section
        elif tag == "figure" and "data-chart" in a and self._section is not None:
            self._chart = ParsedChart(a["data-chart"])
            self._section.charts.append(self._chart)
        elif self._chart is not None and tag == "svg":
            self._chart.svgs += 1
        elif self._chart is not None and tag == "g":
            self._child_of_mark_group()
            self._groups.append(["role-mark" in a.get("class", "").split(), False])
        elif self._chart is not None:
            self._child_of_mark_group()
        elif tag == "table" and "data-figures" in a and self._section is not None:
            self._table = ParsedTable(a["data-figures"])
            self._section.tables[self._table.key] = self._table
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "div" and "data-no-data" in a:
            self._panel = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if self._chart is not None:
            self._child_of_mark_group()  # a self-closed <g/> is an empty group, not a parent

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self._chart is not None and self._groups:
            self._groups.pop()
        elif tag == "figure":
            self._chart = None
            self._groups = []
        elif tag == "section":
            self._section = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._in_head:
                self._table.headers = self._row
            elif self._row != ["none"]:
                self._table.rows.append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None
        elif tag == "div" and self._panel is not None and self._section is not None:
            self._section.panel = " ".join("".join(self._panel).split())
            self._panel = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._panel is not None:
            self._panel.append(data + " ")


@dataclass
class RenderedReport:
    path: Path
    html: str
    sections: dict[str, ParsedSection]
    tags: list[str]


def parse_report(path: Path) -> RenderedReport:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    parser.close()
    return RenderedReport(path, text, parser.sections, parser.tags)


@pytest.fixture(scope="session")
def dashboard_reports(
    built_worlds: dict[str, Built], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, RenderedReport]:
    """The report of each backend's built sample world (all products, all dates), lazily."""

    def render(backend: str) -> RenderedReport:
        out = tmp_path_factory.mktemp(f"dashboard_{backend}") / "report.html"
        write_report(built_worlds[backend].target, out)
        return parse_report(out)

    return PerBackend(render)


@pytest.fixture
def report(built: Built, dashboard_reports: dict[str, RenderedReport]) -> RenderedReport:
    """The dashboard of `built` (the test runs once per backend)."""
    return dashboard_reports[built.target.backend]
