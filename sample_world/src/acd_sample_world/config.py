"""The knobs of the sample world and the fixed catalogue it sells from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# Where `acd-warehouse seed` and `demo` write the world's API payloads, under the current
# directory (git-ignored, beside the embedded warehouse file).
DEFAULT_OUT_DIR = Path("warehouse/sample_world")

PRODUCTS = ("portal28", "content-factory", "pct", "mediaposter", "waitlistlab")

PRODUCT_DOMAINS = {
    "portal28": "https://portal28.app",
    "content-factory": "https://contentfactory.app",
    "pct": "https://pct.tools",
    "mediaposter": "https://mediaposter.app",
    "waitlistlab": "https://waitlistlab.com",
}

# Minor-unit exponent of each currency the world charges in (docs/METRICS.md, Conventions; JPY 0, KWD 3).
CURRENCY_EXPONENTS = {"usd": 2, "jpy": 0, "kwd": 3}
# Rough value of one major unit in USD, for the ad platforms' purchase values.
USD_PER_UNIT = {"usd": 1.0, "jpy": 1 / 150, "kwd": 3.25}


@dataclass(frozen=True)
class Offer:
    """One Stripe price of one Stripe product, and what buying it grants."""

    key: str
    product_key: str
    product_name: str
    acd_product: str  # Stripe product metadata `acd_product` (docs/METRICS.md, Revenue)
    currency: str
    unit_amount: int  # minor units
    interval: str | None  # None = one-time; else day|week|month|year
    plan: str
    max_quantity: int = 1
    bundle_products: tuple[str, ...] = ()  # apps an entitlement is expected in
    bundle_on: str = ""  # "product" or "price": where the `bundle_products` metadata lives


OFFERS: tuple[Offer, ...] = (
    Offer(
        "p28_course", "p28_course", "Portal28 Course Pass", "portal28", "usd", 19700, None, "course"
    ),
    Offer(
        "p28_course_jpy",
        "p28_course",
        "Portal28 Course Pass",
        "portal28",
        "jpy",
        29800,
        None,
        "course",
    ),
    Offer(
        "p28_course_kwd",
        "p28_course",
        "Portal28 Course Pass",
        "portal28",
        "kwd",
        59500,
        None,
        "course",
    ),
    Offer(
        "cf_monthly",
        "cf_seats",
        "Content Factory Seats",
        "content-factory",
        "usd",
        2900,
        "month",
        "seat-monthly",
        max_quantity=5,
    ),
    Offer(
        "cf_yearly",
        "cf_seats",
        "Content Factory Seats",
        "content-factory",
        "usd",
        29000,
        "year",
        "seat-yearly",
        max_quantity=5,
    ),
    Offer("pct_monthly", "pct_pro", "PCT Pro", "pct", "usd", 4900, "month", "pro-monthly"),
    Offer("pct_weekly", "pct_pro", "PCT Pro", "pct", "usd", 1500, "week", "pro-weekly"),
    Offer(
        "mp_monthly_jpy",
        "mp_plus",
        "MediaPoster Plus",
        "mediaposter",
        "jpy",
        1980,
        "month",
        "plus-monthly",
    ),
    Offer(
        "wl_monthly",
        "wl_starter",
        "WaitlistLab Starter",
        "waitlistlab",
        "usd",
        1900,
        "month",
        "starter-monthly",
    ),
    Offer(
        "creator_bundle",
        "creator_bundle",
        "Creator Bundle",
        "portal28",
        "usd",
        49700,
        None,
        "creator-bundle",
        bundle_products=("portal28", "content-factory", "mediaposter"),
        bundle_on="product",
    ),
    Offer(
        "all_access_yearly",
        "all_access",
        "All-Access",
        "portal28",
        "usd",
        99000,
        "year",
        "all-access-yearly",
        bundle_products=("pct", "content-factory", "waitlistlab"),
        bundle_on="price",
    ),
)

OFFERS_BY_KEY = {offer.key: offer for offer in OFFERS}


@dataclass(frozen=True)
class WorldConfig:
    """What to generate: `users` people over `days` days ending on `end_date` (UTC)."""

    users: int = 2000
    days: int = 30
    seed: int = 42
    end_date: date = date(2024, 6, 30)
    out_dir: Path = DEFAULT_OUT_DIR

    def __post_init__(self) -> None:
        if self.users < 1:
            raise ValueError("users must be at least 1")
        if self.days < 1:
            raise ValueError("days must be at least 1")

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_date, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The end of the simulated period: midnight after `end_date` (exclusive)."""
        return datetime.combine(self.end_date + timedelta(days=1), datetime.min.time(), tzinfo=UTC)

    def day(self, index: int) -> date:
        return self.start_date + timedelta(days=index)


def yesterday_utc(now: datetime | None = None) -> date:
    """The default `--end-date`: the last complete UTC day."""
    return ((now or datetime.now(UTC)).astimezone(UTC) - timedelta(days=1)).date()
