"""Stage 6: a new driver process opens the same file: every key is there, and the tree keeps working."""

from labkit.checks import fail
from model import Model, expect_answers, expect_file_holds, gets, inserts, keys
from session import Layout

REOPEN_HINT = (
    "a file with pages is an existing tree: BTree() reads page 0 (root, free list, capacities) and writes no new "
    "page 0; every change must be written through the pager before the call returns"
)


def check_a_restart_after_close_keeps_every_key(new_tree, rng):
    """close(), then a new process: every key answers, more inserts and deletes work, the file stays valid"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 200)
    expect_answers(model, inserts(batch[:150]), tree.run(inserts(batch[:150])))
    tree.close()
    tree.open()
    expect_answers(model, gets(batch), tree.run(gets(batch)), REOPEN_HINT)
    operations = [
        ["scan", None, None, True, True],
        *inserts(batch[150:]),
        *[["delete", key] for key in batch[:60]],
        ["insert", batch[100], 1],
    ]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    expect_file_holds(tree.file(), model)
    tree.open()
    expect_answers(model, gets(batch), tree.run(gets(batch)), REOPEN_HINT)
    tree.close()


def check_a_killed_process_loses_no_returned_call(new_tree, rng):
    """The process is killed between two calls, without close(): a new one finds every change that returned"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 160)
    operations = [*inserts(batch), *[["delete", key] for key in batch[:40]], *[["update", k, 7] for k in batch[40:60]]]
    expect_answers(model, operations, tree.run(operations))
    tree.kill()
    expect_file_holds(tree.file(), model)
    tree.open()
    operations = [*gets(batch), ["scan", None, None, True, True]]
    expect_answers(model, operations, tree.run(operations), REOPEN_HINT)
    tree.close()


def check_an_emptied_tree_reopens_empty(new_tree, rng):
    """A tree whose keys were all deleted reopens empty, and takes new keys from its free pages"""
    layout = Layout(rng.randint(3, 6), rng.randint(3, 6))
    model, tree = Model(), new_tree(layout).open()
    batch = keys(rng, 60)
    operations = [*inserts(batch), *[["delete", key] for key in batch]]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    pages = tree.file().pages
    tree.open()
    operations = [*gets(batch[:5]), *inserts(batch[:30])]
    expect_answers(model, operations, tree.run(operations))
    tree.close()
    refilled = tree.file()
    expect_file_holds(refilled, model)
    if refilled.pages > pages:
        fail(
            f"30 keys after a reopen grew the file from {pages} to {refilled.pages} pages, though pages were free",
            hint="read the free-list head from page 0 when opening an existing file",
        )
