"""Stage 8: tens of thousands of keys through a 16-page cache; freed pages are used again, none leaks."""

from labkit.checks import fail
from model import Model, expect_answers, expect_file_holds, gets, inserts, keys
from session import FULL_INTERNAL, FULL_LEAF, Layout

CACHE = 16


def insert_batch(tree, model, batch):
    """Inserts never free a page, so the file may grow only to 1 + the nodes it holds after the batch."""
    before = tree.pages()
    expect_answers(model, inserts(batch), tree.run(inserts(batch), timeout=40))
    after = tree.file()
    nodes = after.leaves + after.internal_nodes
    if after.pages > max(before, 1 + nodes):
        fail(
            f"inserting {len(batch)} keys grew the file from {before} to {after.pages} pages while "
            f"{after.free_pages} page(s) were still free",
            hint="take a new page from the head of the free list before calling pager.allocate()",
        )
    expect_file_holds(after, model)


def delete_batch(tree, model, batch):
    """Deletes never need a new page: the file keeps its size and the freed pages go to the free list."""
    before = tree.pages()
    operations = [["delete", key] for key in batch]
    expect_answers(model, operations, tree.run(operations, timeout=40))
    after = tree.file()
    if after.pages != before:
        fail(
            f"deleting {len(batch)} keys changed the file from {before} to {after.pages} pages",
            hint="a delete frees pages (to the free list) and never allocates one",
        )
    expect_file_holds(after, model)


def check_tens_of_thousands_of_keys_with_full_pages(new_tree, rng):
    """20000 keys in full-size pages and a 16-page cache: inserted, 4000 deleted, half of those inserted again"""
    model, tree = Model(), new_tree(Layout(FULL_LEAF, FULL_INTERNAL, CACHE)).open()
    batch = keys(rng, 20000, spread=10**12)
    insert_batch(tree, model, batch[:10000])
    insert_batch(tree, model, batch[10000:])
    gone = rng.sample(batch, 4000)
    delete_batch(tree, model, gone)
    insert_batch(tree, model, gone[:2000])
    sample = rng.sample(batch, 500)
    expect_answers(model, gets(sample), tree.run(gets(sample)))
    tree.close()
    expect_file_holds(tree.file(), model)


def check_churn_with_small_pages_reuses_freed_pages(new_tree, rng):
    """Small pages, rounds of deleting and reinserting thousands of keys: the free list keeps the file from growing"""
    model, tree = Model(), new_tree(Layout(rng.randint(8, 16), rng.randint(8, 16), CACHE)).open()
    batch = keys(rng, 2000, spread=10**9)
    insert_batch(tree, model, batch)
    for _ in range(2):
        gone = rng.sample(batch, 1000)
        delete_batch(tree, model, gone)
        rng.shuffle(gone)
        insert_batch(tree, model, gone)
    tree.close()
    expect_file_holds(tree.file(), model)
