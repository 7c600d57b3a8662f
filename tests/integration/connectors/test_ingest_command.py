"""`ingest SOURCE`: the command module (the lead wires it into `acd-warehouse`)."""

from __future__ import annotations

import argparse

import pytest
from fakes import query
from test_stripe_ingest import make_world

from orchestration.commands import ingest as ingest_command
from orchestration.settings import MissingCredentials


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="acd-warehouse")
    ingest_command.register(root.add_subparsers(dest="command", required=True))
    return root


def test_ingest_stripe_from_the_environment_loads_every_object(
    warehouse, monkeypatch, capsys
) -> None:
    api = make_world()
    base = api.start()
    try:
        monkeypatch.setenv("STRIPE_API_KEY", "sk_test_secret")
        monkeypatch.setenv("STRIPE_API_BASE_URL", base)
        args = parser().parse_args(["ingest", "stripe"])
        args.handler(args, warehouse)
    finally:
        api.stop()
    out = capsys.readouterr().out
    assert "stripe customers: 10 objects" in out and "sk_test_secret" not in out
    for table, expected in [
        ("customers", 10),
        ("subscriptions", 2),
        ("invoices", 1),
        ("charges", 2),
        ("refunds", 1),
        ("products", 2),
        ("prices", 1),
        ("subscription_items", 4),
        ("invoice_line_items", 3),
    ]:
        assert query(warehouse, f"select count(*) from raw_stripe.{table}") == [(expected,)], table


@pytest.mark.parametrize(
    ("source", "variable"),
    [
        ("meta", "META_AD_ACCOUNT_IDS"),
        ("tiktok", "TIKTOK_ACCESS_TOKEN"),
        ("stripe", "STRIPE_API_KEY"),
    ],
)
def test_missing_credentials_fail_naming_the_variable(
    warehouse, monkeypatch, source, variable
) -> None:
    for name in (
        "META_ACCESS_TOKEN",
        "META_AD_ACCOUNT_IDS",
        "TIKTOK_ACCESS_TOKEN",
        "TIKTOK_ADVERTISER_IDS",
        "STRIPE_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TIKTOK_ADVERTISER_IDS", "7")
    args = parser().parse_args(["ingest", source])
    with pytest.raises(MissingCredentials, match=f"^{variable} is not set") as failure:
        args.handler(args, warehouse)
    assert isinstance(failure.value, ingest_command.ERRORS)


def test_dates_are_validated(capsys) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["ingest", "meta", "--start", "yesterday"])
    assert "is not a date" in capsys.readouterr().err
