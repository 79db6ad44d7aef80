"""Stage 2: leaves split; the separator is copied up and the leaf chain links the leaves."""

from labkit.checks import expect, expect_equal
from model import Model, expect_answers, expect_file_holds, gets, inserts, keys
from session import Layout


def check_the_worked_example_splits_as_the_readme_shows(new_tree):
    """leaf_max 3: inserting 10, 20, 30, 40 gives a root with separator 30 over leaves [10, 20] -> [30, 40]"""
    tree = new_tree(Layout(3, 3)).open()
    model = Model()
    operations = [*inserts([10, 20, 30]), ["insert", 20, 999], ["insert", 40, 400], *gets([10, 20, 30, 40])]
    answers = tree.run(operations)
    tree.close()
    file = tree.file()
    for operation in operations:
        model.apply(operation)
    expect_file_holds(file, model)
    expect_answers(Model(), operations, answers)
    expect_equal(file.height, 2, "the tree's height after the first split")
    expect_equal(file.root_keys, [30], "the root's keys: a copy of the right leaf's first key")
    expect_equal(file.leaf_keys, [[10, 20], [30, 40]], "the leaves' keys, left to right along the chain")


def check_splits_in_ascending_descending_and_random_order(new_tree, rng):
    """Keys inserted ascending, descending and shuffled: every key found, the file valid after each batch"""
    for order in ("ascending", "descending", "shuffled"):
        layout = Layout(rng.randint(3, 8), rng.randint(8, 12))
        batch = keys(rng, layout.leaf_max * 3 + rng.randint(1, 3))
        batch.sort(reverse=order == "descending")
        if order == "shuffled":
            rng.shuffle(batch)
        model, tree = Model(), new_tree(layout).open()
        for start in range(0, len(batch), 7):
            operations = inserts(batch[start : start + 7])
            expect_answers(model, operations, tree.run(operations))
            expect_file_holds(tree.file(), model)
        expect_answers(model, gets(batch), tree.run(gets(batch)))
        tree.close()
        file = tree.file()
        expect(
            file.height >= 2,
            f"{len(batch)} keys in leaves of {layout.leaf_max} need at least two levels; "
            f"the file's tree has {file.height}",
        )
        expect_file_holds(file, model)


def check_keys_equal_to_a_separator_are_found(new_tree, rng):
    """get() and update() of keys equal to a separator go right, to the leaf that holds them"""
    layout = Layout(rng.randint(3, 5), rng.randint(8, 12))
    batch = keys(rng, layout.leaf_max * 4)
    model, tree = Model(), new_tree(layout).open()
    expect_answers(model, inserts(batch), tree.run(inserts(batch)))
    firsts = [leaf[0] for leaf in tree.file().leaf_keys[1:]]
    operations = [
        *gets(firsts),
        *[["update", key, key + 1] for key in firsts],
        *gets(firsts),
        *[["insert", key, 1] for key in firsts],
    ]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    expect_file_holds(tree.file(), model)
