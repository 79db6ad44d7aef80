"""Stage 1: one leaf: page 0, insert, get, update, delete and the duplicate rule, checked in the file."""

from labkit.checks import expect_equal
from model import U64, Model, expect_answers, expect_file_holds, gets, inserts, value_of
from session import Layout, Operation
from treefile import MAGIC, META, PAGE_SIZE


def check_a_new_file_gets_its_meta_page(new_tree, rng):
    """A new tree writes page 0: the magic, root 0, free 0 and its capacities; get, update and delete find nothing"""
    layout = Layout(rng.randint(5, 9), rng.randint(3, 9))
    tree = new_tree(layout).open()
    key = rng.randrange(1, 10**6)
    operations: list[Operation] = [["get", key], ["update", key, 1], ["delete", key], ["scan", None, None, True, True]]
    expect_answers(Model(), operations, tree.run(operations))
    tree.close()
    expected = META.pack(MAGIC, 0, 0, layout.leaf_max, layout.internal_max) + bytes(PAGE_SIZE - META.size)
    expect_equal(tree.path.read_bytes(), expected, "the file of an empty tree (page 0 only)")


def check_one_leaf_holds_its_keys_in_order(new_tree, rng):
    """Keys inserted in any order sit sorted in one root leaf; get finds each, and absent keys give None"""
    layout = Layout(rng.randint(7, 12), rng.randint(3, 9))
    keys = [0, U64 - 1, *rng.sample(range(1, 10**9), layout.leaf_max - 2)]
    rng.shuffle(keys)
    model, tree = Model(), new_tree(layout).open()
    absent = [1, U64 - 2, *rng.sample(range(10**9, 2 * 10**9), 3)]
    operations = [*inserts(keys), *gets(keys), *gets(absent)]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    file = tree.file()
    expect_equal(
        file.height,
        1,
        "the height of the tree in the file (one leaf)",
        hint="the tree lives in the file: write the leaf through the pager and its page number into page 0's root",
    )
    expect_file_holds(file, model)


def check_insert_never_overwrites_and_update_never_inserts(new_tree, rng):
    """insert() of a present key is False and keeps its value; update() of an absent key is False and inserts nothing"""
    layout = Layout(rng.randint(8, 12), rng.randint(3, 9))
    keys = rng.sample(range(10, 10**6), 5)
    absent = rng.sample(range(10**6, 2 * 10**6), 2)
    model, tree = Model(), new_tree(layout).open()
    operations = [
        *inserts(keys),
        *[["insert", key, value_of(key, 1)] for key in keys[:3]],
        *gets(keys),
        *[["update", key, value_of(key, 2)] for key in keys[1:4]],
        *[["update", key, 5] for key in absent],
        *gets(keys + absent),
    ]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    expect_file_holds(tree.file(), model)


def check_delete_in_one_leaf(new_tree, rng):
    """delete() removes present keys (True) and reports absent ones (False); the leaf closes the gap"""
    layout = Layout(rng.randint(8, 12), rng.randint(3, 9))
    keys = rng.sample(range(10, 10**6), 6)
    model, tree = Model(), new_tree(layout).open()
    operations = [
        *inserts(keys),
        ["delete", keys[0]],
        ["delete", keys[3]],
        ["delete", keys[0]],
        ["delete", 3],
        *gets(keys),
    ]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    expect_file_holds(tree.file(), model)


def check_invalid_keys_and_values_raise_value_error(new_tree, rng):
    """Keys and values outside 0..2**64-1, or not ints, raise ValueError and change nothing"""
    layout = Layout(rng.randint(8, 12), rng.randint(3, 9))
    keys = rng.sample(range(10, 10**6), 3)
    model, tree = Model(), new_tree(layout).open()
    expect_answers(model, inserts(keys), tree.run(inserts(keys)))
    bad = [
        ["insert", -1, 1],
        ["insert", U64, 1],
        ["insert", keys[0] + 1, U64],
        ["insert", "12", 1],
        ["insert", True, 1],
        ["update", keys[0], -5],
        ["get", -1],
        ["delete", U64],
        # every method, on both sides of the range and for other types; scan's bounds too (None is no bound)
        ["get", U64],
        ["get", 3.0],
        ["insert", 7.0, 1],
        ["insert", keys[0] + 2, -1],
        ["insert", keys[0] + 3, 2.5],
        ["update", -1, 1],
        ["update", U64, 1],
        ["update", keys[1], U64],
        ["update", keys[1], "7"],
        ["delete", -1],
        ["delete", "12"],
        ["scan", -1, None, True, False],
        ["scan", None, U64, True, False],
        ["scan", 1.5, keys[0], True, False],
    ]
    for operation in bad:
        _, raised = tree.attempt([operation])
        expect_equal(
            raised.type_name if raised else "no exception",
            "ValueError",
            f"what {operation[0]}{tuple(operation[1:])!r} raised",
        )
    tree.close()
    expect_file_holds(tree.file(), model)


def check_capacities_outside_the_limits_raise_value_error(new_tree, rng):
    """BTree() refuses leaf_max outside 3..255 and internal_max outside 3..340 with ValueError, and takes both ends"""
    good_leaf, good_internal = rng.randint(3, 255), rng.randint(3, 340)
    refused = [(2, good_internal), (256, good_internal), (good_leaf, 2), (good_leaf, 341), (0, 0)]
    accepted = [(3, 3), (255, 340), (good_leaf, good_internal)]
    answers = new_tree(Layout(good_leaf, good_internal)).refusals(refused + accepted)
    for (leaf_max, internal_max), answer in zip(refused + accepted, answers, strict=True):
        expected = "ValueError" if (leaf_max, internal_max) in refused else "no exception"
        expect_equal(
            answer or "no exception",
            expected,
            f"what BTree(pager, {leaf_max}, {internal_max}) raised",
            hint="3 <= leaf_max <= 255 and 3 <= internal_max <= 340: the most entries and keys that fit a 4 KiB page",
        )
