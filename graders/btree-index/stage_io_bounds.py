"""Stage 7: the grader's pager counts the pages each call reads: one per level for a lookup, the leaves of the
range for a scan, and never none: pages are not kept or read around the pager."""

from labkit.checks import fail
from model import Model, expect_answers, gets, inserts, keys
from session import FULL_INTERNAL, FULL_LEAF, Layout, show


def check_a_lookup_reads_one_page_per_level(new_tree, rng):
    """Each get(), of present and absent keys, reads at most height + 1 pages and writes none"""
    for layout, count in (
        (Layout(rng.randint(4, 8), rng.randint(4, 8)), 1500),
        (Layout(FULL_LEAF, FULL_INTERNAL), 3000),
    ):
        model, tree = Model(), new_tree(layout).open()
        batch = keys(rng, count)
        expect_answers(model, inserts(batch), tree.run(inserts(batch)))
        tree.close()
        height = tree.file().height
        tree.open()  # cold: the cache is empty after a restart
        probes = rng.sample(batch, 200) + [key + 1 for key in rng.sample(batch, 50)]
        operations = gets(probes)
        answers = tree.run(operations)
        expect_answers(model, operations, answers)
        for operation, done in zip(operations, answers, strict=True):
            if done.reads > height + 1 or done.writes:
                fail(
                    f"get({operation[1]}) read {done.reads} page(s) and wrote {done.writes} "
                    f"in a tree of height {height}",
                    expected=f"at most {height + 1} page reads (page 0 and one node per level), no write",
                    got=f"{done.reads} reads, {done.writes} writes",
                    hint="descend from the root to one leaf; never walk the leaf chain or visit every leaf to find "
                    "a key",
                )
        tree.close()


def check_a_scan_reads_only_the_leaves_of_its_range(new_tree, rng):
    """A scan reads at most height + 1 pages to its first leaf, the leaves holding its keys, and one more"""
    layout = Layout(rng.randint(6, 10), rng.randint(4, 8))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 1500)
    expect_answers(model, inserts(batch), tree.run(inserts(batch)))
    file = tree.file()
    leaf_of = {key: n for n, leaf in enumerate(file.leaf_keys) for key in leaf}
    present = sorted(batch)
    operations = []
    for length in (0, 1, 5, 40, 300, len(present) - 1):
        start = rng.randrange(len(present) - length)
        operations.append(["scan", present[start], present[start + length], True, True])
    operations += [["scan", None, None, True, True], ["scan", present[-1] + 1, None, True, True]]
    answers = tree.run(operations)
    expect_answers(model, operations, answers)
    for operation, done in zip(operations, answers, strict=True):
        leaves = len({leaf_of[key] for key, _ in done.result})
        bound = file.height + 1 + leaves + 1
        if done.reads > bound or done.writes:
            fail(
                f"{show(operation)} returned {len(done.result)} key(s) from {leaves} leaves "
                f"and read {done.reads} page(s)",
                expected=f"at most {bound} page reads ({file.height + 1} to reach the first leaf, {leaves} leaves, "
                "one more), no write",
                got=f"{done.reads} reads, {done.writes} writes",
                hint="descend once, then follow next pointers; a get() per key or a walk from the leftmost leaf "
                "reads far more",
            )
    tree.close()


def check_pages_go_through_the_pager(new_tree, rng):
    """Every get() of a stored key reads a page per level through the pager and every change writes through it"""
    layout = Layout(rng.randint(4, 8), rng.randint(4, 8))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 300)
    operations = [
        *inserts(batch),
        *gets(rng.sample(batch, 100)),
        *[["update", key, key * 5] for key in rng.sample(batch, 50)],
        *[["delete", key] for key in rng.sample(batch, 50)],
    ]
    first, rest = operations[: len(batch)], operations[len(batch) :]
    answers = tree.run(first)
    expect_answers(model, first, answers)
    height = tree.file().height  # the height the gets see: they come before any update or delete
    answers += tree.run(rest)
    expect_answers(model, rest, answers[len(first) :])
    for operation, done in zip(operations, answers, strict=True):
        if operation[0] == "get" and done.reads == 0:
            fail(
                f"{show(operation)} answered without reading a page through the pager",
                expected="at least one page read (the leaf that holds the key)",
                got="0 reads",
                hint="keep no copy of a page between calls and never read the file around the pager: read each page "
                "you need with pager.read() (its cache makes that cheap)",
            )
        if operation[0] == "get" and done.reads < height:
            fail(
                f"{show(operation)} read {done.reads} page(s) through the pager in a tree of height {height}",
                expected=f"at least {height} page reads: the node of each level on the way to the key",
                got=f"{done.reads} reads",
                hint="keep no node between calls, the root and internal nodes included: only the root's page number "
                "and the free-list head may stay in memory",
            )
        if operation[0] != "get" and done.result is True and done.writes == 0:
            fail(
                f"{show(operation)} changed the tree without writing a page through the pager",
                expected="at least one page write",
                got="0 writes",
                hint="write every page you change with pager.write() before the call returns",
            )
    tree.close()
