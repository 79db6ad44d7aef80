"""Stage 4: range scans follow the leaf chain; every bound and flag is judged against the model."""

import itertools

from model import Model, expect_answers, inserts, keys
from session import Layout, Operation

FLAGS = [(True, True), (True, False), (False, True), (False, False)]


def built(new_tree, rng, count):
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, count, spread=10 * count)
    expect_answers(model, inserts(batch), tree.run(inserts(batch)))
    return model, tree, sorted(batch)


def check_bounds_inclusive_and_exclusive(new_tree, rng):
    """Each of the four bound flag pairs, on keys present and absent, in the middle and at both ends"""
    model, tree, present = built(new_tree, rng, 150)
    operations = []
    for _ in range(12):
        low, high = sorted(rng.sample(present, 2))
        for bounds in ((low, high), (low + 1, high - 1), (low - 1, high + 1), (present[0], present[-1])):
            operations += [["scan", *bounds, *flags] for flags in FLAGS]
    expect_answers(model, operations, tree.run(operations))
    tree.close()


def check_open_ended_empty_and_single_key_ranges(new_tree, rng):
    """None for an open end, whole-tree scans, ranges holding one key or none, reversed ranges, default flags"""
    model, tree, present = built(new_tree, rng, 120)
    key, gap = rng.choice(present[1:-1]), next(k for k in range(present[0], present[-1]) if k not in model.values)
    operations: list[Operation] = [["scan", None, None, *flags] for flags in FLAGS]
    operations += [["scan", None, key, *flags] for flags in FLAGS] + [["scan", key, None, *flags] for flags in FLAGS]
    operations += [["scan", key, key, *flags] for flags in FLAGS] + [["scan", gap, gap, True, True]]
    operations += [
        ["scan", key + 5, key - 5, True, True],
        ["scan", present[-1] + 1, None, True, True],
        ["scan", None, present[0], True, False],
        ["scan", 0, present[0] - 1, True, True],
        ["scan", key, present[-1]],  # the README's defaults: include_low=True, include_high=False
        ["scan", gap, key],
    ]
    expect_answers(model, operations, tree.run(operations))
    tree.close()


def check_scans_that_start_and_end_at_leaf_boundaries(new_tree, rng):
    """Ranges beginning or ending at the first or last key of a leaf: no key skipped or repeated between leaves"""
    model, tree, _ = built(new_tree, rng, 160)
    leaves = tree.file().leaf_keys
    operations = []
    for left, right in itertools.pairwise(leaves):
        edge = [left[-1], right[0]]
        operations += [["scan", edge[0], edge[1], *flags] for flags in FLAGS]
        operations += [["scan", right[0], right[-1], *flags] for flags in FLAGS[:2]]
    expect_answers(model, operations, tree.run(operations))
    tree.close()


def check_scans_after_updates_see_the_new_values(new_tree, rng):
    """A scan across many leaves returns the values of the latest updates"""
    model, tree, present = built(new_tree, rng, 100)
    operations = [["update", key, key * 3] for key in rng.sample(present, 40)]
    operations += [["scan", None, None, True, True], ["scan", present[10], present[90], False, True]]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
