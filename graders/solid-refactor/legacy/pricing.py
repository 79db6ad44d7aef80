"""Checkout pricing. Written in 2014, patched ever since. It works: please do not break it."""

from __future__ import annotations

from typing import Any

from models import Adjustment, Line, Order, Quote


def price(order: Order) -> Quote:
    adj = []
    sub = 0
    gc = 0
    units = 0
    for l in order.lines:
        sub += l.unit_cents * l.quantity
        if l.category == "gift-card":
            gc += l.unit_cents * l.quantity
        else:
            units += l.quantity
    # 3 for 2 on socks (marketing, 2016)
    for l in order.lines:
        if l.category == "socks":
            if l.quantity >= 3:
                adj.append(Adjustment("3 for 2: " + l.sku, -(l.quantity // 3) * l.unit_cents))
    # bulk
    for l in order.lines:
        if l.category != "socks" and l.category != "gift-card":
            if l.quantity >= 50:
                d = l.unit_cents * l.quantity * 10 // 100
                if d > 0:
                    adj.append(Adjustment("bulk: " + l.sku, -d))
            elif l.quantity >= 10:
                d = l.unit_cents * l.quantity * 5 // 100
                if d > 0:
                    adj.append(Adjustment("bulk: " + l.sku, -d))
    m = sub - gc + sum(a.cents for a in adj)
    if order.tier == "gold":
        if m >= 10000:
            d = m * 10 // 100
            adj.append(Adjustment("gold member", -d))
            m = m - d
    elif order.tier == "silver":
        if m >= 20000:
            d = m * 5 // 100
            adj.append(Adjustment("silver member", -d))
            m = m - d
    code = order.coupon.strip().upper()
    if code == "SAVE10":
        if m + gc >= 5000:
            adj.append(Adjustment("coupon SAVE10", -1000))
            m = m - 1000
    elif code == "TENPERCENT" and order.tier != "gold":
        d = m * 10 // 100
        if d > 0:
            adj.append(Adjustment("coupon TENPERCENT", -d))
            m = m - d
    if m > 0 and m < 1500:
        adj.append(Adjustment("small order fee", 199))
        m = m + 199
    if units > 0:
        if order.zone == "home":
            if m >= 5000 or code == "FREESHIP":
                fee = 0
            else:
                fee = 495
        elif order.zone == "eu":
            if m >= 15000 or code == "FREESHIP":
                fee = 0
            else:
                fee = 1295
        else:
            fee = 2495
            if units > 10:
                fee = fee + 150 * (units - 10)
        if fee > 0:
            adj.append(Adjustment("shipping", fee))
    return Quote(sub, tuple(adj))


def quote(payload: dict[str, Any]) -> dict[str, Any]:
    """The web shop's entry point: an order as JSON in, its quote as JSON out."""
    lines = tuple(
        Line(str(l["sku"]), str(l["category"]), int(l["unit_cents"]), int(l["quantity"])) for l in payload["lines"]
    )
    order = Order(lines, payload.get("tier", "regular"), payload.get("zone", "home"), payload.get("coupon", ""))
    q = price(order)
    return {
        "subtotal": q.subtotal,
        "adjustments": [[a.label, a.cents] for a in q.adjustments],
        "total": q.total,
    }


def quote_many(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The nightly repricing job: many orders at once."""
    return [quote(p) for p in payloads]
