"""The Stripe side of the sample world: the catalogue, and customers' purchases over time.

`StripeCatalog` is the fixed set of products and prices (built once). `Billing` turns one
person's purchases into Stripe objects (customer, subscriptions with their invoices and
charges, one-off charges, refunds) and the Stripe `events` that announce them, handing each
finished object to a sink. Links the API does not carry are kept in metadata: one-off charges
have `metadata.price`/`metadata.product`; charges that pay an invoice have `metadata.invoice`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from acd_sample_world import stripe_objects as so
from acd_sample_world.config import OFFERS, WorldConfig
from acd_sample_world.ids import digits, stripe_id, sub_rng

StripeSink = Callable[[str, dict[str, Any]], None]  # (resource, object)

INTERVAL_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def add_interval(moment: datetime, interval: str) -> datetime:
    if interval == "month":
        month = moment.month + 1
        year = moment.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        day = min(moment.day, 28)
        return moment.replace(year=year, month=month, day=day)
    if interval == "year":
        return moment.replace(year=moment.year + 1, day=min(moment.day, 28))
    return moment + timedelta(days=INTERVAL_DAYS[interval])


@dataclass
class StripeCatalog:
    products: dict[str, dict[str, Any]]  # product_key -> product object
    prices: dict[str, dict[str, Any]]  # offer key -> price object


def _snapshot(obj: Any) -> Any:
    """A deep copy of a JSON object (the C JSON codec beats `copy.deepcopy` several times)."""
    return json.loads(json.dumps(obj))


def build_catalog(config: WorldConfig, emit: StripeSink) -> StripeCatalog:
    rng = sub_rng(config.seed, "stripe-catalog")
    created_at = config.start - timedelta(days=120)
    products: dict[str, dict[str, Any]] = {}
    prices: dict[str, dict[str, Any]] = {}
    product_ids = {offer.product_key: stripe_id(rng, "prod", 14) for offer in OFFERS}
    for index, offer in enumerate(OFFERS):
        price_meta: dict[str, str] = {"acd_plan": offer.plan}
        bundle = json.dumps(
            [{"app": app, "product_id": offer.plan} for app in offer.bundle_products],
            separators=(",", ":"),
        )
        if offer.bundle_on == "price":
            price_meta["bundle_products"] = bundle
        prices[offer.key] = so.price(
            id=stripe_id(rng, "price", 24),
            created=ts(created_at) + index * 60,
            currency=offer.currency,
            unit_amount=offer.unit_amount,
            product_id=product_ids[offer.product_key],
            interval=offer.interval,
            nickname=f"{offer.product_name} ({offer.plan}, {offer.currency.upper()})",
            lookup_key=offer.key,
            metadata=price_meta,
        )
    for index, offer in enumerate(OFFERS):
        if offer.product_key in products:
            continue
        meta = {"acd_product": offer.acd_product}
        if offer.bundle_on == "product":
            meta["bundle_products"] = json.dumps(
                [{"app": app, "product_id": offer.plan} for app in offer.bundle_products],
                separators=(",", ":"),
            )
        products[offer.product_key] = so.product(
            id=product_ids[offer.product_key],
            created=ts(created_at) - 3600 + index,
            name=offer.product_name,
            description=f"{offer.product_name} by ACD Studio",
            default_price=prices[offer.key]["id"],
            metadata=meta,
        )
    for product in products.values():
        emit("products", product)
        emit("events", _event(rng, product["created"], "product.created", product))
    for price in prices.values():
        emit("prices", price)
        emit("events", _event(rng, price["created"], "price.created", price))
    return StripeCatalog(products=products, prices=prices)


def _event(
    rng: random.Random,
    created: int,
    type_: str,
    obj: dict[str, Any],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return so.event(
        id=stripe_id(rng, "evt", 24),
        created=created,
        type=type_,
        obj=_snapshot(obj),
        previous_attributes=previous,
        request_id=stripe_id(rng, "req", 14) if type_.endswith((".created", ".updated")) else None,
    )


@dataclass
class Payment:
    """What a product event needs to know about one successful payment."""

    charge_id: str
    invoice_id: str | None
    amount: int
    currency: str
    at: datetime
    refunded_amount: int = 0
    refunded_at: datetime | None = None


@dataclass
class SubscriptionPlan:
    """One subscription as simulated: changes are (time, kind, value)."""

    offer_key: str
    start: datetime
    quantity: int
    quantity_change: tuple[datetime, int] | None = None
    cancel_at: datetime | None = None
    cancel_at_period_end: bool = False
    refund_first: bool = False


@dataclass
class SubscriptionResult:
    subscription_id: str
    first: Payment
    payments: list[Payment] = field(default_factory=list)
    ended_at: datetime | None = None
    period_end: datetime | None = None


class Billing:
    """One person's Stripe account: a customer and everything it buys, in time order."""

    def __init__(
        self,
        rng: random.Random,
        config: WorldConfig,
        catalog: StripeCatalog,
        emit: StripeSink,
        *,
        email: str,
        name: str,
        user_id: str,
    ) -> None:
        self.rng = rng
        self.config = config
        self.catalog = catalog
        self.emit = emit
        self.email = email
        self.name = name
        self.user_id = user_id
        self.customer: dict[str, Any] | None = None
        self.invoice_seq = 0
        self.card = {
            "payment_method": stripe_id(rng, "pm", 24),
            "fingerprint": stripe_id(rng, "fp", 14)[3:],
            "last4": digits(rng, 4, first=rng.choice("1234567")),
            "brand": rng.choice(("visa", "visa", "mastercard", "amex")),
        }

    def ensure_customer(self, at: datetime, currency: str) -> dict[str, Any]:
        if self.customer is None:
            self.customer = so.customer(
                id=stripe_id(self.rng, "cus", 14),
                created=ts(at),
                email=self.email,
                name=self.name,
                invoice_prefix=stripe_id(self.rng, "x", 8)[2:].upper(),
                currency=currency,
                metadata={"acd_user_id": self.user_id},
                next_invoice_sequence=1,
            )
            self.emit("events", _event(self.rng, ts(at), "customer.created", self.customer))
        return self.customer

    def finish(self) -> None:
        if self.customer is not None:
            self.customer["next_invoice_sequence"] = self.invoice_seq + 1
            self.emit("customers", self.customer)

    # one-off purchases -------------------------------------------------------------------

    def buy_once(
        self, offer_key: str, at: datetime, refund: str | None, refund_at: datetime | None
    ) -> Payment:
        price = self.catalog.prices[offer_key]
        customer = self.ensure_customer(at, price["currency"])
        charge = self._charge(
            at,
            price["unit_amount"],
            price["currency"],
            customer["id"],
            description=price["nickname"],
            metadata={"price": price["id"], "product": price["product"]},
        )
        payment = Payment(charge["id"], None, charge["amount"], charge["currency"], at)
        if refund is not None and refund_at is not None:
            self._refund(charge, payment, refund_at, full=refund == "full")
        self.emit("charges", charge)
        return payment

    # subscriptions -----------------------------------------------------------------------

    def subscribe(self, plan: SubscriptionPlan) -> SubscriptionResult:
        rng = self.rng
        end = self.config.end
        price = self.catalog.prices[plan.offer_key]
        interval = price["recurring"]["interval"]
        customer = self.ensure_customer(plan.start, price["currency"])
        sub_id = stripe_id(rng, "sub", 24)
        item_id = stripe_id(rng, "si", 14)
        quantity = plan.quantity
        period_start = plan.start
        period_end = add_interval(period_start, interval)

        def items(qty: int, p_start: datetime, p_end: datetime) -> list[dict[str, Any]]:
            return [
                so.subscription_item(
                    id=item_id,
                    created=ts(plan.start),
                    price_obj=_snapshot(price),
                    quantity=qty,
                    subscription_id=sub_id,
                    period_start=ts(p_start),
                    period_end=ts(p_end),
                )
            ]

        sub = so.subscription(
            id=sub_id,
            created=ts(plan.start),
            customer_id=customer["id"],
            currency=price["currency"],
            items=items(quantity, period_start, period_end),
            latest_invoice=None,
            status="active",
            start_date=ts(plan.start),
            billing_cycle_anchor=ts(plan.start),
            cancel_at=None,
            canceled_at=None,
            ended_at=None,
            cancel_at_period_end=False,
            metadata={"acd_user_id": self.user_id},
        )
        self.emit("events", _event(rng, ts(plan.start), "customer.subscription.created", sub))
        result: SubscriptionResult | None = None
        reason = "subscription_create"
        change = plan.quantity_change
        while period_start < end:
            # A quantity change inside this period applies from the next invoice on.
            if change is not None and change[0] < period_start:
                previous_items = _snapshot(sub["items"])
                quantity = change[1]
                sub["items"]["data"] = items(quantity, period_start, period_end)
                self.emit(
                    "events",
                    _event(
                        rng,
                        ts(change[0]),
                        "customer.subscription.updated",
                        sub,
                        {"items": previous_items},
                    ),
                )
                change = None
            if plan.cancel_at is not None and plan.cancel_at <= period_start:
                break
            sub["items"]["data"] = items(quantity, period_start, period_end)
            payment = self._invoice(
                sub,
                price,
                quantity,
                period_start,
                period_end,
                reason,
                refund_at=plan.cancel_at
                if plan.refund_first and reason == "subscription_create"
                else None,
            )
            sub["latest_invoice"] = payment.invoice_id
            if result is None:
                result = SubscriptionResult(sub_id, payment)
            result.payments.append(payment)
            result.period_end = period_end
            reason = "subscription_cycle"
            if plan.cancel_at is not None and plan.cancel_at < period_end:
                break
            period_start, period_end = period_end, add_interval(period_end, interval)
        assert result is not None
        if change is not None and change[0] < end:
            previous_items = _snapshot(sub["items"])
            sub["items"]["data"][0]["quantity"] = change[1]
            self.emit(
                "events",
                _event(
                    rng,
                    ts(change[0]),
                    "customer.subscription.updated",
                    sub,
                    {"items": previous_items},
                ),
            )
        if plan.cancel_at is not None and plan.cancel_at < end:
            canceled = ts(plan.cancel_at)
            if plan.cancel_at_period_end:
                period_close = result.period_end or plan.cancel_at
                sub["cancel_at_period_end"] = True
                sub["cancel_at"] = ts(period_close)
                sub["canceled_at"] = canceled
                self._set_cancellation(sub)
                self.emit(
                    "events",
                    _event(
                        rng,
                        canceled,
                        "customer.subscription.updated",
                        sub,
                        {"cancel_at_period_end": False, "cancel_at": None, "canceled_at": None},
                    ),
                )
                if period_close < end:
                    sub["status"] = "canceled"
                    sub["ended_at"] = ts(period_close)
                    result.ended_at = period_close
                    self.emit(
                        "events",
                        _event(rng, ts(period_close), "customer.subscription.deleted", sub),
                    )
            else:
                sub["status"] = "canceled"
                sub["canceled_at"] = canceled
                sub["ended_at"] = canceled
                self._set_cancellation(sub)
                result.ended_at = plan.cancel_at
                self.emit("events", _event(rng, canceled, "customer.subscription.deleted", sub))
        self.emit("subscriptions", sub)
        return result

    @staticmethod
    def _set_cancellation(sub: dict[str, Any]) -> None:
        sub["cancellation_details"] = {
            "comment": None,
            "feedback": "too_expensive",
            "reason": "cancellation_requested",
        }

    def _invoice(
        self,
        sub: dict[str, Any],
        price: dict[str, Any],
        quantity: int,
        period_start: datetime,
        period_end: datetime,
        reason: str,
        refund_at: datetime | None,
    ) -> Payment:
        rng = self.rng
        assert self.customer is not None
        self.invoice_seq += 1
        invoice_id = stripe_id(rng, "in", 24)
        total = price["unit_amount"] * quantity
        created = period_start
        line = so.line_item(
            id=stripe_id(rng, "il", 24),
            invoice_id=invoice_id,
            amount=total,
            currency=price["currency"],
            description=f"{quantity} x {price['nickname']}",
            quantity=quantity,
            period_start=ts(period_start),
            period_end=ts(period_end),
            subscription_id=sub["id"],
            subscription_item_id=sub["items"]["data"][0]["id"],
            price_id=price["id"],
            product_id=price["product"],
            unit_amount=price["unit_amount"],
        )
        paid_at = created + timedelta(seconds=rng.randint(2, 40))
        invoice = so.invoice(
            id=invoice_id,
            created=ts(created),
            customer_id=self.customer["id"],
            customer_email=self.email,
            customer_name=self.name,
            currency=price["currency"],
            total=total,
            lines=[line],
            number=f"{self.customer['invoice_prefix']}-{self.invoice_seq:04d}",
            billing_reason=reason,
            subscription_id=sub["id"],
            period_start=ts(period_start),
            period_end=ts(period_end),
            paid_at=ts(paid_at),
            metadata={},
        )
        charge = self._charge(
            paid_at,
            total,
            price["currency"],
            self.customer["id"],
            description="Subscription creation"
            if reason == "subscription_create"
            else "Subscription update",
            metadata={"invoice": invoice_id},
        )
        payment = Payment(charge["id"], invoice_id, total, price["currency"], paid_at)
        self.emit("events", _event(rng, ts(paid_at), "invoice.paid", invoice))
        self.emit("invoices", invoice)
        if refund_at is not None:
            self._refund(charge, payment, refund_at, full=True)
        self.emit("charges", charge)
        return payment

    def _charge(
        self,
        at: datetime,
        amount: int,
        currency: str,
        customer_id: str,
        *,
        description: str,
        metadata: dict[str, str],
    ) -> dict[str, Any]:
        rng = self.rng
        charge_id = stripe_id(rng, "ch", 24)
        charge = so.charge(
            id=charge_id,
            created=ts(at),
            amount=amount,
            currency=currency,
            customer_id=customer_id,
            email=self.email,
            name=self.name,
            description=description,
            payment_intent=stripe_id(rng, "pi", 24),
            payment_method=self.card["payment_method"],
            fingerprint=self.card["fingerprint"],
            last4=self.card["last4"],
            brand=self.card["brand"],
            receipt_number=f"{digits(rng, 4)}-{digits(rng, 4)}",
            metadata=metadata,
        )
        self.emit("events", _event(rng, ts(at), "charge.succeeded", charge))
        return charge

    def _refund(
        self, charge: dict[str, Any], payment: Payment, at: datetime, *, full: bool
    ) -> None:
        rng = self.rng
        amount = charge["amount"] if full else max(1, charge["amount"] // 2)
        refund = so.refund(
            id=stripe_id(rng, "re", 24),
            created=ts(at),
            amount=amount,
            charge_id=charge["id"],
            currency=charge["currency"],
            payment_intent=charge["payment_intent"],
            reason="requested_by_customer",
            customer_id=charge["customer"],
            payment_method=charge["payment_method"],
        )
        previous = {"amount_refunded": 0, "refunded": False}
        charge["amount_refunded"] = amount
        charge["refunded"] = full
        charge["refunds"]["data"] = [refund]
        self.emit("refunds", refund)
        self.emit("events", _event(rng, ts(at), "charge.refunded", charge, previous))
        payment.refunded_amount = amount
        payment.refunded_at = at
