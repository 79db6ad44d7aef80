"""Stage 6: a partial index holds only the rows one query can return."""

from tuning_queries import SHIPPING_BACKLOG

BUFFERS = 40
INDEX_BYTES = 1024 * 1024


def check_shipping_backlog_returns_the_original_rows(tuning):
    """shipping_backlog returns the 50 oldest paid orders"""
    tuning.expect_same_rows(SHIPPING_BACKLOG, (), hint="oldest first; orders with the same created_at go by id")


def check_shipping_backlog_reads_a_small_partial_index(tuning):
    """shipping_backlog reads a partial index of under 1 MiB"""
    plan = tuning.plan(SHIPPING_BACKLOG, ())
    hint = "an index WITH a WHERE clause stores only the paid orders; its predicate must match the query's"
    plan.forbid_seq_scan("orders", hint)
    sizes = tuning.index_sizes()
    scans = plan.indexes_on("orders", {name: table for name, (table, _) in sizes.items()})
    if not scans:
        plan.violation("reads orders without an index", None, hint)
    for scan in scans:
        size = sizes[scan.index][1]
        if size > INDEX_BYTES:
            plan.violation(f"reads the index {scan.index} of {size / 1048576:.1f} MiB (limit: 1 MiB)", scan, hint)
    plan.expect_buffers_at_most(BUFFERS, hint)
