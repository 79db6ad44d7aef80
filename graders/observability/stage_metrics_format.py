"""Stage 1: /metrics speaks the strict OpenMetrics format, before and after requests of every kind."""

import random

from exposition import scrape
from traffic import mixed, send_all


def check_metrics_parse_strictly_at_start(shop):
    """Before any request, GET /metrics answers 200 in the OpenMetrics format the strict parser accepts"""
    scrape(shop)


def check_metrics_parse_strictly_after_requests(shop, rng: random.Random):
    """After requests of every route and outcome, /metrics still passes the strict parser"""
    send_all(shop, mixed(rng, users=2, unmatched_calls=2, ok=1, invalid=1, failing=1))
    scrape(shop)
