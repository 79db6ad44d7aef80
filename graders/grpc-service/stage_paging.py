"""Stage 4: ListItems pages through items in sku order with tokens that survive inserts and deletes."""

from collections.abc import Callable

import grpc

from inventory import Inventory
from labkit.checks import expect, fail, log

MAX_PAGES = 200  # a server whose tokens never end must not keep the grader looping


def list_all(
    inv: Inventory, prefix: str, page_size: int, between_pages: Callable[[int, list[str]], None] | None = None
) -> list[list[str]]:
    """Pages through ``prefix`` and returns the pages (lists of skus); ``between_pages(n, seen)`` runs after page n."""
    pages: list[list[str]] = []
    token = ""
    while len(pages) < MAX_PAGES:
        reply = inv.do("ListItems", prefix=prefix, page_size=page_size, page_token=token)
        pages.append([entry.sku for entry in reply.items])
        token = reply.next_page_token
        if not token:
            return pages
        if between_pages:
            between_pages(len(pages), [sku for page in pages for sku in page])
    fail(
        f"ListItems(prefix={prefix!r}) was still returning page tokens after {MAX_PAGES} pages",
        hint="next_page_token must be empty on the page that holds the last matching item",
    )


def expect_pages(pages: list[list[str]], skus: list[str], page_size: int, what: str) -> None:
    listed = [sku for page in pages for sku in page]
    strangers = sorted(set(listed) - set(skus))
    expect(
        not strangers,
        f"{what} returned items that do not match the prefix or do not exist: {strangers[:3]}",
        hint="return only items whose sku starts with the request's prefix",
    )
    if listed != sorted(skus):
        fail(
            f"{what} did not return every item once, in ascending sku order",
            expected=" ".join(sorted(skus)),
            got=" ".join(listed),
            hint="sort by sku and continue each page right after the last sku of the previous one",
        )
    sizes = [len(page) for page in pages]
    full = [page_size] * (len(skus) // page_size) + ([len(skus) % page_size] if len(skus) % page_size else [])
    if sizes != full:
        fail(
            f"{what} returned pages of sizes {sizes}, expected {full}",
            expected=f"page sizes {full} (every page full except the last; no empty page after it)",
            got=f"page sizes {sizes}",
            hint="fill each page up to page_size and leave next_page_token empty when no item follows",
        )


def check_pages_follow_sku_order_and_end_with_an_empty_token(inv, prefix, rng):
    """Pages hold page_size items in plain character order of sku; the last token is empty"""
    numbers = [f"{n:03d}" for n in rng.sample(range(1000), 13)]
    # Plain character order: "010" < "0105" < "011", "-x" < "Z" < "_x" < "a" (no natural or case-blind sort).
    skus = [prefix + suffix for suffix in numbers + [f"{n}5" for n in numbers[:3]] + ["-x", "Z", "_x", "a"]]
    for sku in rng.sample(skus, len(skus)):
        inv.create(sku)
    inv.create(prefix.rstrip("-") + "_other")  # shares the first characters, but not the prefix
    expect_pages(list_all(inv, prefix, 7), skus, 7, f"ListItems(prefix={prefix!r}, page_size=7)")
    expect_pages(list_all(inv, prefix, 5), skus, 5, f"ListItems(prefix={prefix!r}, page_size=5)")


def check_default_and_largest_page_size(inv, prefix):
    """page_size 0 means 50; a page_size above 1000 means 1000; the prefix "" matches every item"""
    skus = [f"{prefix}{n:03d}" for n in range(60)]
    for sku in skus:
        inv.create(sku)
    expect_pages(list_all(inv, prefix, 0), skus, 50, f"ListItems(prefix={prefix!r}, page_size=0)")
    expect_pages(list_all(inv, prefix, 5000), skus, 1000, f"ListItems(prefix={prefix!r}, page_size=5000)")
    everything = [sku for page in list_all(inv, "", 1000) for sku in page]
    mine = [sku for sku in everything if sku.startswith(prefix)]
    if mine != skus or everything != sorted(set(everything)):
        fail(
            "ListItems(prefix='') did not list every item once, in ascending sku order",
            expected=f"all items, among them the {len(skus)} of {prefix!r} in order",
            got=f"{len(everything)} items, {len(mine)} of them under {prefix!r}",
            hint="the empty prefix matches every item",
        )


def check_bad_page_size_and_token_are_invalid_argument(inv, prefix):
    """A negative page_size or an undecodable page_token is INVALID_ARGUMENT"""
    inv.create(prefix + "a")
    inv.refuses("ListItems", grpc.StatusCode.INVALID_ARGUMENT, prefix=prefix, page_size=-1)
    inv.refuses(
        "ListItems",
        grpc.StatusCode.INVALID_ARGUMENT,
        hint="decode page_token inside a try and answer INVALID_ARGUMENT when it is not one of yours",
        prefix=prefix,
        page_size=5,
        page_token="%% not a token %%",
    )


def check_paging_is_stable_while_items_come_and_go(client, prefix):
    """Inserts and deletes between pages cause no duplicates and no skipped items"""
    reader, writer = client(who="pager"), client(who="other client")
    original = [f"{prefix}{n:03d}" for n in range(10, 310, 10)]  # 30 items: 010, 020, ..., 300
    for sku in original:
        writer.create(sku)
    deleted = set()

    def meanwhile(page: int, seen: list[str]) -> None:
        log(f"between page {page} and page {page + 1}, another client changes the store:")
        last = seen[-1]
        if page == 1:  # two new items before the cursor, one after it
            for sku in (f"{prefix}001", f"{prefix}002", f"{last}5"):
                writer.create(sku)
        elif page == 2:  # three items already listed disappear
            for sku in seen[:3]:
                writer.do("DeleteItem", sku=sku)
                deleted.add(sku)

    listed = [sku for page in list_all(reader, prefix, 7, meanwhile) for sku in page]
    twice = sorted({sku for sku in listed if listed.count(sku) > 1})
    if twice:
        fail(
            f"while paging, items were returned twice: {' '.join(twice)}",
            hint="an offset token shifts when items are inserted before it; encode the last sku returned instead",
        )
    skipped = [sku for sku in original if sku not in deleted and sku not in listed]
    if skipped:
        fail(
            f"while paging, items that existed all along were skipped: {' '.join(skipped)}",
            hint="an offset token shifts when items before it are deleted; encode the last sku returned instead",
        )
    expect(listed == sorted(listed), "the pages together were not in ascending sku order")
