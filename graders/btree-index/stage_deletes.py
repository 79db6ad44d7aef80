"""Stage 5: deletes borrow and merge, the root collapses, the tree empties and fills again from the free list."""

from generated import sequences
from labkit.checks import expect, expect_equal
from model import Model, expect_answers, expect_file_holds, gets, inserts, keys, value_of
from session import Layout, Operation
from treefile import META, free_list_order


def delete_in_batches(tree, model, order, step):
    for start in range(0, len(order), step):
        operations = [["delete", key] for key in order[start : start + step]]
        expect_answers(model, operations, tree.run(operations))
        expect_file_holds(tree.file(), model)


def check_deleting_in_ascending_and_descending_order(new_tree, rng):
    """Deleting from the left and from the right end: borrows, merges and a shrinking root, valid after each batch"""
    for descending in (False, True):
        layout = Layout(rng.randint(3, 6), rng.randint(3, 5))
        model, tree = Model(), new_tree(layout).open()
        batch = keys(rng, 150)
        expect_answers(model, inserts(batch), tree.run(inserts(batch)))
        tall = tree.file().height
        order = sorted(batch, reverse=descending)
        delete_in_batches(tree, model, order[:145], 10)
        expect(
            tree.file().height < tall,
            f"after deleting 145 of 150 keys the tree is still {tall} levels high",
            hint="a root internal node left with no key is freed and its only child becomes the root",
        )
        expect_answers(model, gets(batch), tree.run(gets(batch)))
        tree.close()


def check_random_deletes_mixed_with_inserts(new_tree, rng):
    """Random deletes (some of absent keys) mixed with inserts, compared with the model after each batch"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    pool = keys(rng, 300)
    expect_answers(model, inserts(pool[:200]), tree.run(inserts(pool[:200])))
    for _ in range(8):
        operations = []
        for _ in range(50):
            key = rng.choice(pool)
            operations.append(["delete", key] if rng.random() < 0.6 else ["insert", key, value_of(key, 9)])
        expect_answers(model, operations, tree.run(operations))
        expect_file_holds(tree.file(), model)
    expect_answers(model, gets(pool), tree.run(gets(pool)))
    tree.close()


def check_down_to_an_empty_tree_and_back(new_tree, rng):
    """Deleting every key leaves root 0 and every page free; refilling reuses them; freed pages head the free list"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 120)
    expect_answers(model, inserts(batch), tree.run(inserts(batch)))
    pages = tree.file().pages
    order = batch[:]
    rng.shuffle(order)
    delete_in_batches(tree, model, order, 30)
    empty = tree.file()
    expect_equal((empty.root, empty.free_pages), (0, pages - 1), "an empty tree's root, and its free pages")
    operations: list[Operation] = [
        ["delete", batch[0]],
        ["update", batch[1], 1],
        ["get", batch[1]],
        ["scan", None, None, True, True],
    ]
    expect_answers(model, operations, tree.run(operations))
    expect_answers(model, inserts(batch), tree.run(inserts(batch)))
    tree.close()
    refilled = tree.file()
    expect_file_holds(refilled, model)
    expect(
        refilled.pages <= pages,
        f"refilling the emptied tree with the same keys grew the file from {pages} to {refilled.pages} pages",
        hint="take a new page from the head of the free list before pager.allocate()",
    )
    expect_the_worked_example_frees_pages_in_order(new_tree)


def expect_the_worked_example_frees_pages_in_order(new_tree):
    """The README's worked example: delete(10) merges leaf 2 into leaf 1, then frees the keyless root 3."""
    model, tree = Model(), new_tree(Layout(3, 3)).open()
    operations: list[Operation] = [*inserts([10, 20, 30, 40]), ["delete", 10]]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    expect_file_holds(tree.file(), model)
    data = tree.path.read_bytes()
    expect_equal(
        (META.unpack_from(data, 0)[1], free_list_order(data)),
        (1, [3, 2]),
        "the worked example after delete(10): page 0's root, and the free list from its head",
        hint="the merge keeps the left page (1) and frees the right (2); the keyless root (3) is freed next: each "
        "freed page goes to the head of the free list, so the list reads 3, then 2",
    )


def check_generated_sequences_against_the_model(new_tree, rng):
    """Generated waves of operations on a few keys: the tree grows, empties and grows again, valid throughout"""
    for operations in sequences(rng, count=5, pool_size=24):
        model, tree = Model(), new_tree(Layout(rng.randint(3, 4), rng.randint(3, 4))).open()
        for start in range(0, len(operations), 20):
            chunk = operations[start : start + 20]
            expect_answers(model, chunk, tree.run(chunk))
            expect_file_holds(tree.file(), model)
        tree.close()
