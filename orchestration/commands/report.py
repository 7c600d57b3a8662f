"""`report [--out FILE] [--product SLUG] [--from DATE] [--to DATE]`: the dashboard as one file.

Writes the self-contained HTML dashboard of the marts (`api.dashboard`) for one product or
all, over a range of UTC dates, and prints the file's path.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from acd_analytics.warehouse_url import WarehouseTarget

from api.dashboard import DEFAULT_REPORT_PATH, Filters, InvalidFilters, write_report
from orchestration.commands import Subcommands

ERRORS: tuple[type[Exception], ...] = (InvalidFilters,)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def cmd_report(args: argparse.Namespace, target: WarehouseTarget) -> None:
    filters = Filters(product=args.product, since=args.since, until=args.until)
    report = write_report(target, Path(args.out), filters)
    print(report.path.resolve())


def register(commands: Subcommands) -> None:
    report = commands.add_parser(
        "report", help="write the dashboard of the marts as one self-contained HTML file"
    )
    report.add_argument(
        "--out", default=str(DEFAULT_REPORT_PATH), help=f"where to write it ({DEFAULT_REPORT_PATH})"
    )
    report.add_argument("--product", metavar="SLUG", help="one product only (default: all)")
    report.add_argument(
        "--from", dest="since", type=_date, metavar="DATE", help="first UTC date (YYYY-MM-DD)"
    )
    report.add_argument(
        "--to", dest="until", type=_date, metavar="DATE", help="last UTC date (YYYY-MM-DD)"
    )
    report.set_defaults(handler=cmd_report)
