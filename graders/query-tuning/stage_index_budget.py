"""Stage 8: indexes cost space and slow every write: the ones the migration adds must fit a budget."""

from labkit.checks import fail

BUDGET_BYTES = 128 * 1024 * 1024


def mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB"


def check_added_indexes_fit_the_budget(tuning, databases):
    """The indexes the migration adds take at most 128 MiB together"""
    added = {name: size for name, (_, size) in tuning.index_sizes().items() if name not in databases.original_indexes}
    total = sum(added.values())
    if total > BUDGET_BYTES:
        listing = "\n".join(
            f"  {mib(size):>10}  {name}" for name, size in sorted(added.items(), key=lambda i: (-i[1], i[0]))
        )
        fail(
            f"the {len(added)} indexes your migration adds take {mib(total)}; the budget is {mib(BUDGET_BYTES)}:\n"
            f"{listing}",
            hint="keep only indexes a query's plan uses, and let one index serve several queries where it can",
        )
