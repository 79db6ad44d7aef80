"""Stage 3: internal nodes split (the middle key pushed up) into trees three and four levels high."""

from labkit.checks import expect, expect_equal
from model import Model, expect_answers, expect_file_holds, gets, inserts, keys, value_of
from session import Layout


def check_the_middle_key_moves_up_when_an_internal_node_splits(new_tree):
    """leaf_max 3, internal_max 3, keys 10 to 100 ascending: the full root splits and its middle key, 70, moves up"""
    model, tree = Model(), new_tree(Layout(3, 3)).open()
    ascending = list(range(10, 101, 10))
    expect_answers(model, inserts(ascending), tree.run(inserts(ascending)))
    tree.close()
    file = tree.file()
    expect_file_holds(file, model)
    expect_equal(file.leaf_keys, [[10, 20], [30, 40], [50, 60], [70, 80], [90, 100]], "the leaves, left to right")
    expect_equal(file.height, 3, "the height after the root split")
    expect_equal(
        file.root_keys,
        [70],
        "the key list of the new root",
        hint="the full root held 30, 50, 70, 90: the key at position (internal_max + 1) // 2 = 2 moves up",
    )


def check_a_tree_three_levels_high(new_tree, rng):
    """Hundreds of shuffled keys with small pages: the tree reaches 3 levels and every rule holds after each batch"""
    layout = Layout(rng.randint(3, 5), rng.randint(3, 5))
    grow(new_tree(layout).open(), keys(rng, 240), 60, 3)


def check_a_tree_four_levels_high_from_ascending_keys(new_tree, rng):
    """Ascending keys (the rightmost path splits again and again): 4 levels and every rule holds"""
    layout = Layout(3, rng.randint(3, 4))
    grow(new_tree(layout).open(), sorted(keys(rng, 300)), 75, 4)


def check_a_mix_of_inserts_duplicates_updates_and_lookups(new_tree, rng):
    """A seeded mix of inserts (some duplicates), updates and gets, compared with the model after every batch"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    pool = keys(rng, 400)
    for _ in range(6):
        operations = []
        for _ in range(80):
            key, roll = rng.choice(pool), rng.random()
            if roll < 0.55:
                operations.append(["insert", key, value_of(key, rng.randrange(100))])
            elif roll < 0.75:
                operations.append(["update", key, value_of(key, rng.randrange(100, 200))])
            else:
                operations.append(["get", key])
        expect_answers(model, operations, tree.run(operations))
        expect_file_holds(tree.file(), model)
    tree.close()
    expect_file_holds(tree.file(), model)


def grow(tree, batch, step, height):
    model = Model()
    for start in range(0, len(batch), step):
        operations = inserts(batch[start : start + step])
        expect_answers(model, operations, tree.run(operations))
        expect_file_holds(tree.file(), model)
    expect_answers(model, gets(batch), tree.run(gets(batch)))
    tree.close()
    file = tree.file()
    expect(
        file.height >= height,
        f"{len(batch)} keys with leaf_max {tree.layout.leaf_max} and internal_max "
        f"{tree.layout.internal_max} make at least {height} levels; the file's tree has {file.height}",
        hint="an internal node splits when it would hold internal_max + 1 keys; the root splits into a new root",
    )
    expect_file_holds(file, model)
