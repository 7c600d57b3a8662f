"""People of the sample world: visits, identification, product use and purchases.

Each person is simulated on their own generator (`sub_rng(seed, "person", i)`), start to
finish, and everything they cause is handed to sinks at once: product events, their
`shared_users` row, Stripe objects, entitlements, and the purchases the ad platforms report.
Nothing about a person is kept afterwards, so worlds of any size stream in constant memory.

The first persons carry the deliberate reconciliation faults (see `FAULT_PERSONS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from acd_sample_world.ads import RETARGETED_SESSION_SHARE, Ad, AdWorld, _estimate
from acd_sample_world.billing import Billing, Payment, StripeCatalog, StripeSink, SubscriptionPlan
from acd_sample_world.config import (
    CURRENCY_EXPONENTS,
    OFFERS_BY_KEY,
    PRODUCT_DOMAINS,
    PRODUCTS,
    USD_PER_UNIT,
    WorldConfig,
)
from acd_sample_world.events import WorldEvent
from acd_sample_world.ids import digits, hex_string, new_uuid, sub_rng

FIRST_NAMES = (
    "ava",
    "liam",
    "mia",
    "noah",
    "zoe",
    "kai",
    "ivy",
    "leo",
    "ruby",
    "omar",
    "yuki",
    "sara",
    "ben",
    "lena",
    "raj",
    "nora",
    "tom",
    "ella",
    "finn",
    "aisha",
)
LAST_NAMES = (
    "smith",
    "tanaka",
    "garcia",
    "muller",
    "okafor",
    "chen",
    "silva",
    "kowalski",
    "nguyen",
    "haddad",
    "brown",
    "rossi",
    "kim",
    "johansson",
    "patel",
)
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
)
LOCALES = ("en-US", "en-US", "en-GB", "ja-JP", "de-DE", "ar-KW", "es-ES")
PAGES = {
    "portal28": ("/", "/courses", "/courses/launch-lab", "/pricing", "/login"),
    "content-factory": ("/", "/templates", "/pricing", "/features/ai-video", "/login"),
    "pct": ("/", "/hooks", "/pricing", "/examples", "/login"),
    "mediaposter": ("/", "/pricing", "/integrations/tiktok", "/calendar", "/login"),
    "waitlistlab": ("/", "/pricing", "/templates", "/join", "/login"),
}
APP_VERSIONS = {
    "portal28": "4.2.0",
    "content-factory": "1.8.1",
    "pct": "2.3.0",
    "mediaposter": "3.1.0",
    "waitlistlab": "0.9.4",
}
# Offer weights for an ordinary purchase.
OFFER_WEIGHTS = (
    ("p28_course", 18),
    ("p28_course_jpy", 4),
    ("cf_monthly", 16),
    ("cf_yearly", 5),
    ("pct_monthly", 10),
    ("pct_weekly", 4),
    ("mp_monthly_jpy", 8),
    ("wl_monthly", 8),
    ("creator_bundle", 6),
    ("all_access_yearly", 3),
)
_OFFER_KEYS = [key for key, _ in OFFER_WEIGHTS]
_OFFER_CUM = []
_total = 0
for _, _weight in OFFER_WEIGHTS:
    _total += _weight
    _OFFER_CUM.append(_total)

# Persons with a fixed role: the deliberate faults, one KWD buyer, one cancel-then-resubscribe.
FAULT_MISSING_GRANT = 0
FAULT_NOT_REVOKED = 1
FAULT_PENDING_UNCLAIMED = 2
FAULT_GRANT_WITHOUT_PURCHASE = 3
KWD_BUYER = 4
RESUBSCRIBER = 5
FAULT_PERSONS = (
    FAULT_MISSING_GRANT,
    FAULT_NOT_REVOKED,
    FAULT_PENDING_UNCLAIMED,
    FAULT_GRANT_WITHOUT_PURCHASE,
)
SPECIAL_PERSONS = (*FAULT_PERSONS, KWD_BUYER, RESUBSCRIBER)


@dataclass
class Sinks:
    event: Callable[[WorldEvent], None]
    user: Callable[[dict[str, Any]], None]
    entitlement: Callable[[dict[str, Any]], None]
    stripe: StripeSink
    fault: Callable[[dict[str, Any]], None]
    # (platform, ad_id, day index) -> [purchases, value in USD]
    ad_conversions: dict[tuple[str, str, int], list[float]] = field(default_factory=dict)


@dataclass
class Touch:
    platform: str
    ad: Ad
    at: datetime


class PersonSimulation:
    def __init__(
        self,
        index: int,
        config: WorldConfig,
        ads: AdWorld,
        catalog: StripeCatalog,
        sinks: Sinks,
    ) -> None:
        self.index = index
        self.config = config
        self.ads = ads
        self.catalog = catalog
        self.sinks = sinks
        self.rng = sub_rng(config.seed, "person", index)
        rng = self.rng
        self.anonymous_id = new_uuid(rng)
        self.user_id: str | None = None
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        self.name = f"{first.title()} {last.title()}"
        domain = rng.choice(("gmail.com", "outlook.com", "icloud.com", "proton.me"))
        self.email = f"{first}.{last}.{index}@{domain}"
        self.user_agent = rng.choice(USER_AGENTS)
        self.ip = f"{rng.choice(('198.51.100', '203.0.113', '192.0.2'))}.{rng.randint(1, 254)}"
        self.locale = "ar-KW" if index == KWD_BUYER else rng.choice(LOCALES)
        self.touches: list[Touch] = []
        self.products_used: set[str] = set()
        self.billing: Billing | None = None
        self.user_row: dict[str, Any] | None = None

    # event helpers ---------------------------------------------------------------------

    def emit(
        self,
        name: str,
        product: str,
        at: datetime,
        properties: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        anonymous_id: str | None = None,
        context: dict[str, Any] | None = None,
        with_user: bool = True,
    ) -> None:
        if at >= self.config.end:
            return
        ctx = context if context is not None else self.base_context(product)
        self.sinks.event(
            WorldEvent(
                event_id=new_uuid(self.rng),
                event_name=name,
                product=product,
                occurred_at=at,
                user_id=self.user_id if with_user else None,
                anonymous_id=anonymous_id or self.anonymous_id,
                session_id=session_id,
                properties=properties or {},
                context=ctx,
            )
        )
        self.products_used.add(product)

    def base_context(self, product: str) -> dict[str, Any]:
        return {
            "app": {"name": product, "version": APP_VERSIONS[product]},
            "user_agent": self.user_agent,
            "ip": self.ip,
            "locale": self.locale,
        }

    # the journey -----------------------------------------------------------------------

    def run(self) -> None:
        rng, config = self.rng, self.config
        special = self.index in SPECIAL_PERSONS
        first_day = 0 if special else rng.randrange(config.days)
        sessions = 1 + min(int(rng.expovariate(0.55)), 7)
        days = [first_day]
        for _ in range(sessions - 1):
            days.append(days[-1] + int(rng.expovariate(0.5)))
        days = [day for day in days if day < config.days]
        will_signup = special or rng.random() < 0.45
        signup_session = -1
        if will_signup:
            signup_session = 0 if special else rng.randrange(len(days))
        second_device = will_signup and rng.random() < 0.2
        for number, day in enumerate(days):
            start = config.start + timedelta(
                days=day,
                hours=rng.randint(6, 22),
                minutes=rng.randint(0, 59),
                seconds=rng.randint(0, 59),
            )
            anonymous_id = self.anonymous_id
            if second_device and self.user_id is not None and number == len(days) - 1:
                anonymous_id = new_uuid(rng)
            product, end_of_visit = self.visit(number, day, start, anonymous_id)
            if number == signup_session:
                self.sign_up(product, end_of_visit)
                self.after_signup(end_of_visit + timedelta(minutes=2), days)
            elif anonymous_id != self.anonymous_id and self.user_id is not None:
                # A second device logs in: link it to the user.
                self.emit(
                    "alias",
                    product,
                    end_of_visit,
                    {"previous_id": anonymous_id},
                    anonymous_id=anonymous_id,
                )
            elif self.user_id is not None and rng.random() < 0.5:
                self.use_product(product, end_of_visit)
        if self.billing is not None:
            self.billing.finish()
        if self.user_row is not None:
            self.sinks.user(self.user_row)

    def visit(
        self, number: int, day: int, start: datetime, anonymous_id: str
    ) -> tuple[str, datetime]:
        rng = self.rng
        campaign: dict[str, Any] | None = None
        product = rng.choice(PRODUCTS)
        query: dict[str, str] = {}
        referrer = ""
        roll = rng.random()
        if number == 0:
            platform = "meta" if roll < 0.35 else "tiktok" if roll < 0.60 else None
        else:
            platform = rng.choice(("meta", "tiktok")) if roll < RETARGETED_SESSION_SHARE else None
        ad = self.ads.pick_clicked_ad(rng, platform, day) if platform else None
        if ad is not None:
            product = ad.product
            click_id = ("IwAR" if ad.platform == "meta" else "E.C.P.") + hex_string(rng, 40)
            source = (
                rng.choice(("facebook", "facebook", "instagram"))
                if ad.platform == "meta"
                else "tiktok"
            )
            campaign = {
                "source": source,
                "medium": "paid_social",
                "name": ad.campaign_id,
                "content": ad.ad_id,
                "term": ad.adset_id,
            }
            campaign["fbclid" if ad.platform == "meta" else "ttclid"] = click_id
            query = {
                "utm_source": source,
                "utm_medium": "paid_social",
                "utm_campaign": ad.campaign_id,
                "utm_content": ad.ad_id,
                "utm_term": ad.adset_id,
                "fbclid" if ad.platform == "meta" else "ttclid": click_id,
            }
            referrer = (
                "https://l.facebook.com/"
                if source == "facebook"
                else (
                    "https://l.instagram.com/"
                    if source == "instagram"
                    else "https://www.tiktok.com/"
                )
            )
            self.touches.append(Touch(ad.platform, ad, start))
        elif roll < 0.75:
            referrer = "https://www.google.com/"
        elif roll < 0.85 and (number > 0 or self.user_id is not None):
            name = f"weekly-digest-{(self.config.day(day)).isoformat()}"
            campaign = {"source": "newsletter", "medium": "email", "name": name}
            query = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": name}
        elif roll < 0.9:
            campaign = {"source": "youtube", "medium": "referral", "name": "creator-collab"}
            query = {
                "utm_source": "youtube",
                "utm_medium": "referral",
                "utm_campaign": "creator-collab",
            }
        session_id = new_uuid(rng)
        at = start
        paths = PAGES[product]
        for page_number in range(1 + min(int(rng.expovariate(0.6)), 5)):
            path = paths[0] if page_number == 0 else rng.choice(paths)
            url = PRODUCT_DOMAINS[product] + path
            context = self.base_context(product)
            if page_number == 0:
                if query:
                    url += "?" + urlencode(query)
                if campaign is not None:
                    context["campaign"] = campaign
                page_referrer = referrer
            else:
                page_referrer = PRODUCT_DOMAINS[product] + "/"
            context["page"] = {"url": url, "path": path, "referrer": page_referrer}
            self.emit(
                "page_viewed",
                product,
                at,
                {"title": path.strip("/") or "home"},
                session_id=session_id,
                anonymous_id=anonymous_id,
                context=context,
            )
            at += timedelta(seconds=rng.randint(5, 240))
        if product == "waitlistlab" and rng.random() < 0.3:
            self.emit(
                "waitlist_joined",
                product,
                at,
                {"waitlist_id": f"wl_{rng.randint(1, 12)}"},
                session_id=session_id,
                anonymous_id=anonymous_id,
            )
        return product, at

    def sign_up(self, product: str, at: datetime) -> None:
        rng = self.rng
        hub = "portal28" if rng.random() < 0.7 else product
        self.user_id = new_uuid(rng)
        method = rng.choice(("email", "google", "magic_link"))
        self.emit("signup_completed", hub, at, {"method": method})
        self.emit(
            "identify",
            hub,
            at + timedelta(seconds=1),
            {"traits": {"email": self.email, "name": self.name}},
        )
        self.user_row = {
            "id": self.user_id,
            "email": self.email,
            "display_name": self.name,
            "stripe_customer_id": None,
            "created_at": at,
            "updated_at": at,
        }

    def after_signup(self, at: datetime, days: list[int]) -> None:
        rng, config = self.rng, self.config
        special = self.index in SPECIAL_PERSONS
        if rng.random() < 0.15:
            product = rng.choice(("pct", "content-factory"))
            self.emit("trial_started", product, at, {"plan": "pro-trial"})
        self.use_product(rng.choice(PRODUCTS), at + timedelta(minutes=5))
        if not (special or rng.random() < 0.33):
            return
        bought_at = at + timedelta(hours=rng.uniform(0.1, 72))
        if bought_at >= config.end:
            bought_at = at + timedelta(minutes=10)
        if bought_at >= config.end:
            return
        assert self.user_id is not None
        self.billing = Billing(
            self.rng,
            config,
            self.catalog,
            self.sinks.stripe,
            email=self.email,
            name=self.name,
            user_id=self.user_id,
        )
        if self.index in (FAULT_MISSING_GRANT, FAULT_NOT_REVOKED, FAULT_PENDING_UNCLAIMED):
            offer_key = "creator_bundle"
        elif self.index == FAULT_GRANT_WITHOUT_PURCHASE:
            offer_key = "p28_course"
        elif self.index == KWD_BUYER:
            offer_key = "p28_course_kwd"
        elif self.index == RESUBSCRIBER:
            offer_key = "pct_monthly"
        else:
            target = rng.random() * _OFFER_CUM[-1]
            offer_key = _OFFER_KEYS[next(i for i, c in enumerate(_OFFER_CUM) if c > target)]
        offer = OFFERS_BY_KEY[offer_key]
        if offer.interval is None:
            self.buy_once(offer_key, bought_at)
        else:
            self.subscribe(offer_key, bought_at)
        if self.index == FAULT_GRANT_WITHOUT_PURCHASE:
            self.grant_without_purchase(bought_at + timedelta(days=1))
        if self.billing.customer is not None and self.user_row and rng.random() < 0.9:
            # Most products record the Stripe customer; the rest join by email (docs/METRICS.md, Identity).
            self.user_row["stripe_customer_id"] = self.billing.customer["id"]
            self.user_row["updated_at"] = bought_at

    def use_product(self, product: str, at: datetime) -> None:
        rng = self.rng
        if self.user_id is None:
            return
        if product == "content-factory":
            for _ in range(rng.randint(1, 3)):
                self.ai_generation(product, at, "openai", "gpt-4o-mini")
                duration = rng.choice((15, 30, 45, 60))
                self.emit(
                    "video_generated",
                    product,
                    at + timedelta(seconds=40),
                    {
                        "duration_s": duration,
                        "template": rng.choice(("talking-head", "b-roll", "captioned")),
                        "awareness_level": rng.randint(1, 5),
                    },
                )
                at += timedelta(minutes=rng.randint(3, 30))
        elif product == "pct":
            for _ in range(rng.randint(1, 4)):
                self.ai_generation(product, at, "anthropic", "claude-haiku-4")
                self.emit(
                    "hook_generated",
                    product,
                    at + timedelta(seconds=8),
                    {
                        "hook_id": new_uuid(rng),
                        "hook_text": "Your first 1,000 followers are a system",
                        "awareness_level": rng.randint(1, 5),
                        "angle": rng.choice(("pain", "outcome", "curiosity")),
                        "template": rng.choice(("question", "listicle")),
                    },
                )
                at += timedelta(minutes=rng.randint(1, 10))
        elif product == "mediaposter":
            for _ in range(rng.randint(1, 3)):
                platform = rng.choice(("instagram", "tiktok", "youtube"))
                self.emit(
                    "content_published",
                    product,
                    at,
                    {"platform": platform, "post_id": digits(rng, 19, first="7")},
                )
                at += timedelta(hours=rng.randint(1, 8))
        elif product == "portal28":
            self.emit(
                "lesson_completed",
                product,
                at,
                {"course_id": "launch-lab", "lesson": rng.randint(1, 12)},
            )
        else:
            self.emit("waitlist_created", product, at, {"waitlist_id": f"wl_{rng.randint(13, 99)}"})

    def ai_generation(self, product: str, at: datetime, provider: str, model: str) -> None:
        rng = self.rng
        input_tokens = rng.randint(200, 4000)
        output_tokens = rng.randint(50, 1500)
        properties: dict[str, Any] = {
            "provider": provider,
            "model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
        }
        if rng.random() < 0.4:
            properties["estimated_tokens"] = _estimate(rng, input_tokens + output_tokens)
        self.emit("ai_generation", product, at, properties)

    # purchases -------------------------------------------------------------------------

    def buy_once(self, offer_key: str, at: datetime) -> None:
        rng, config = self.rng, self.config
        assert self.billing is not None
        refund: str | None = None
        refund_at: datetime | None = None
        roll = rng.random()
        if self.index == FAULT_NOT_REVOKED or (self.index not in SPECIAL_PERSONS and roll < 0.07):
            refund = "full"
        elif self.index not in SPECIAL_PERSONS and roll < 0.10:
            refund = "partial"
        if refund is not None:
            refund_at = at + timedelta(hours=rng.uniform(2, 96))
            if refund_at >= config.end:
                refund_at = at + timedelta(minutes=30)
            if refund_at >= config.end:
                refund, refund_at = None, None
        payment = self.billing.buy_once(offer_key, at, refund, refund_at)
        self.purchased(offer_key, payment)
        self.grant(offer_key, payment, expires_at=None)

    def subscribe(self, offer_key: str, at: datetime) -> None:
        rng, config = self.rng, self.config
        assert self.billing is not None
        offer = OFFERS_BY_KEY[offer_key]
        quantity = 1
        if offer.max_quantity > 1:
            quantity = rng.choice((1, 1, 1, 2, 3, offer.max_quantity))
        plan = SubscriptionPlan(offer_key, at, quantity)
        roll = rng.random()
        remaining = config.end - at
        if offer.max_quantity > 1 and rng.random() < 0.3:
            new_quantity = min(quantity + rng.randint(1, 3), offer.max_quantity)
            if new_quantity == quantity:
                new_quantity = max(1, quantity - 1)
            if new_quantity != quantity:
                plan.quantity_change = (at + remaining * rng.uniform(0.2, 0.9), new_quantity)
        if self.index == RESUBSCRIBER or (self.index not in SPECIAL_PERSONS and roll < 0.18):
            plan.cancel_at = at + remaining * rng.uniform(0.3, 0.8)
            plan.cancel_at_period_end = self.index != RESUBSCRIBER and rng.random() < 0.5
        elif self.index not in SPECIAL_PERSONS and roll < 0.21:
            plan.cancel_at = at + timedelta(hours=rng.uniform(1, 48))
            plan.refund_first = plan.cancel_at < config.end
        if plan.cancel_at is not None and plan.cancel_at >= config.end:
            plan.cancel_at, plan.refund_first = None, False
        if (
            plan.quantity_change is not None
            and plan.cancel_at is not None
            and plan.quantity_change[0] >= plan.cancel_at
        ):
            plan.quantity_change = None
        result = self.billing.subscribe(plan)
        self.purchased(offer_key, result.first)
        if plan.cancel_at is not None:
            self.emit(
                "subscription_canceled", offer.acd_product, plan.cancel_at, {"plan": offer.plan}
            )
        ended_at = result.ended_at
        if offer.bundle_products:
            for payment in result.payments:
                self.grant(offer_key, payment, expires_at=None, ended_at=ended_at)
        else:
            self.grant(offer_key, result.first, expires_at=result.period_end, ended_at=ended_at)
        if self.index == RESUBSCRIBER and plan.cancel_at is not None:
            again = plan.cancel_at + timedelta(hours=rng.uniform(6, 72))
            if again < config.end:
                again_result = self.billing.subscribe(SubscriptionPlan(offer_key, again, 1))
                self.purchased(offer_key, again_result.first)
                self.grant(offer_key, again_result.first, expires_at=again_result.period_end)

    def purchased(self, offer_key: str, payment: Payment) -> None:
        offer = OFFERS_BY_KEY[offer_key]
        exponent = CURRENCY_EXPONENTS[payment.currency]
        revenue = payment.amount / 10**exponent
        properties: dict[str, Any] = {
            "revenue": revenue if exponent else int(revenue),
            "currency": payment.currency.upper(),
            "stripe_charge_id": payment.charge_id,
            "plan": offer.plan,
        }
        if payment.invoice_id is not None:
            properties["stripe_invoice_id"] = payment.invoice_id
        self.emit(
            "purchase_completed", offer.acd_product, payment.at + timedelta(seconds=3), properties
        )
        # The ad platform reports the purchase on the day of the last ad click within 7 days.
        for touch in reversed(self.touches):
            if touch.at <= payment.at and payment.at - touch.at <= timedelta(days=7):
                day = (touch.at - self.config.start).days
                key = (touch.platform, touch.ad.ad_id, day)
                entry = self.sinks.ad_conversions.setdefault(key, [0, 0.0])
                entry[0] += 1
                entry[1] += revenue * USD_PER_UNIT[payment.currency]
                break

    def grant(
        self,
        offer_key: str,
        payment: Payment,
        *,
        expires_at: datetime | None,
        ended_at: datetime | None = None,
    ) -> None:
        rng = self.rng
        offer = OFFERS_BY_KEY[offer_key]
        apps = offer.bundle_products or (offer.acd_product,)
        purchase_id = payment.invoice_id or payment.charge_id
        granted_at = payment.at + timedelta(seconds=rng.randint(5, 600))
        for position, app in enumerate(apps):
            entitlement_id = new_uuid(rng)
            row: dict[str, Any] = {
                "id": entitlement_id,
                "user_id": self.user_id,
                "product": app,
                "plan": offer.plan,
                "status": "active",
                "source_app": offer.acd_product,
                "source_purchase_id": purchase_id,
                "pending_for_email": None,
                "granted_at": granted_at,
                "revoked_at": None,
                "expires_at": expires_at,
            }
            fault: dict[str, Any] | None = None
            last = position == len(apps) - 1
            if self.index == FAULT_MISSING_GRANT and last and offer.bundle_products:
                fault = {"issue_type": "missing_grant", "entitlement_id": None}
            elif self.index == FAULT_PENDING_UNCLAIMED and last and offer.bundle_products:
                row.update(status="pending", user_id=None, pending_for_email=self.email)
                fault = {"issue_type": "pending_unclaimed", "entitlement_id": entitlement_id}
            elif payment.refunded_at is not None and payment.refunded_amount >= payment.amount:
                if self.index == FAULT_NOT_REVOKED and offer.bundle_products:
                    fault = {
                        "issue_type": "not_revoked_after_refund",
                        "entitlement_id": entitlement_id,
                    }
                else:
                    row.update(
                        status="revoked", revoked_at=payment.refunded_at + timedelta(minutes=1)
                    )
            elif ended_at is not None:
                row.update(status="revoked", revoked_at=ended_at)
            if fault is not None:
                fault.update(
                    source_purchase_id=purchase_id,
                    app=app,
                    user_id=self.user_id,
                    email=self.email,
                    amount=payment.amount,
                    currency=payment.currency,
                )
                self.sinks.fault(fault)
                if fault["issue_type"] == "missing_grant":
                    continue
            self.sinks.entitlement(row)

    def grant_without_purchase(self, at: datetime) -> None:
        """A bundle entitlement whose source purchase never happened in Stripe."""
        rng = self.rng
        purchase_id = "in_" + "".join(
            rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(24)
        )
        entitlement_id = new_uuid(rng)
        self.sinks.entitlement(
            {
                "id": entitlement_id,
                "user_id": self.user_id,
                "product": "content-factory",
                "plan": "creator-bundle",
                "status": "active",
                "source_app": "portal28",
                "source_purchase_id": purchase_id,
                "pending_for_email": None,
                "granted_at": min(at, self.config.end - timedelta(minutes=1)),
                "revoked_at": None,
                "expires_at": None,
            }
        )
        self.sinks.fault(
            {
                "issue_type": "grant_without_purchase",
                "entitlement_id": entitlement_id,
                "source_purchase_id": purchase_id,
                "app": "content-factory",
                "user_id": self.user_id,
                "email": self.email,
                "amount": None,
                "currency": None,
            }
        )
