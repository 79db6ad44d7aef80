"""Stage 4: a leaderboard: best scores, shared ranks for ties, names in order within a tie, and paging."""

from labkit.checks import expect_equal, fail
from labkit.driver import Driver

CALL_TIMEOUT_S = 2.0
TIE_HINT = (
    "equal scores are listed by player name, ascending; ZREVRANGE lists them descending. Store negated scores "
    "and read with ZRANGE, or sort each group of equal scores yourself"
)
RANK_HINT = (
    "rank = 1 + the number of players with a strictly higher score, so equal scores share a rank (1, 2, 2, 4); "
    "a position from ZREVRANK is not a rank"
)
PAGE_HINT = "page n of size s holds positions (n-1)*s to n*s-1; ZRANGE's stop index is inclusive"


def standings(best: dict[str, int]) -> list[dict[str, object]]:
    """The whole board as the spec orders it."""
    order = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [
        {"player": player, "score": score, "rank": 1 + sum(other > score for other in best.values())}
        for player, score in order
    ]


def record(driver: Driver, board: str, best: dict[str, int], player: str, score: int) -> None:
    best[player] = max(score, best.get(player, score))
    got = driver.call("record_score", board, player, score, timeout=CALL_TIMEOUT_S)
    expect_equal(
        got,
        best[player],
        f"record_score({board!r}, {player!r}, {score}), the best score of {player!r}",
        hint="a lower score does not replace a better one: ZADD ... GT (or LT on negated scores) keeps the best",
    )


def expect_page(driver: Driver, board: str, number: int, size: int, best: dict[str, int]) -> None:
    expected = standings(best)[(number - 1) * size : number * size]
    got = driver.call("page", board, number, size, timeout=CALL_TIMEOUT_S)
    if got == expected:
        return
    what = f"page({board!r}, {number}, {size})"
    if not isinstance(got, list) or not all(isinstance(entry, dict) for entry in got):
        fail(f"{what} must return a list of dicts", got=repr(got), hint='each entry is {"player", "score", "rank"}')
    message, hint = f"{what} is wrong", None
    if len(got) != len(expected):
        message, hint = f"{what} returned {len(got)} entries instead of {len(expected)}", PAGE_HINT
    else:
        for place, (mine, theirs) in enumerate(zip(got, expected, strict=True), start=(number - 1) * size + 1):
            if mine.get("player") != theirs["player"]:
                message = f"{what}: position {place} is {mine.get('player')!r} instead of {theirs['player']!r}"
                tied = mine.get("player") in best and best[mine["player"]] == theirs["score"]
                hint = TIE_HINT if tied else PAGE_HINT
                break
            if mine.get("score") != theirs["score"]:
                message = f"{what}: {theirs['player']!r} has score {mine.get('score')!r} instead of {theirs['score']}"
                break
            if mine.get("rank") != theirs["rank"]:
                message = f"{what}: {theirs['player']!r} has rank {mine.get('rank')!r} instead of {theirs['rank']}"
                hint = RANK_HINT
                break
    fail(message, expected=repr(expected), got=repr(got), hint=hint)


def expect_rank(driver: Driver, board: str, player: str, best: dict[str, int]) -> None:
    expected = None if player not in best else 1 + sum(other > best[player] for other in best.values())
    got = driver.call("rank", board, player, timeout=CALL_TIMEOUT_S)
    expect_equal(got, expected, f"rank({board!r}, {player!r})", hint=None if expected is None else RANK_HINT)


def check_the_best_score_is_kept(pool, db):
    """record_score keeps each player's best score, per board"""
    (driver,) = pool.ready(1)
    arcade: dict[str, int] = {}
    for score in (50, 30, 70, 70, 10):
        record(driver, "arcade", arcade, "ana", score)
    record(driver, "arcade", arcade, "ben", 60)
    racing: dict[str, int] = {}
    record(driver, "racing", racing, "ana", 5)
    expect_page(driver, "arcade", 1, 10, arcade)
    expect_page(driver, "racing", 1, 10, racing)
    expect_rank(driver, "arcade", "ana", arcade)
    expect_rank(driver, "racing", "ana", racing)
    expect_rank(driver, "racing", "ben", racing)


def check_equal_scores_share_a_rank_and_are_ordered_by_name(pool, db):
    """Equal scores share a rank, and are listed by player name"""
    (driver,) = pool.ready(1)
    best: dict[str, int] = {}
    for player, score in (("dora", 40), ("bob", 40), ("cy", 50), ("al", 40), ("eve", 30), ("fay", 50)):
        record(driver, "chess", best, player, score)
    expect_page(driver, "chess", 1, 10, best)
    for player in ("cy", "fay", "al", "bob", "dora", "eve", "gus"):
        expect_rank(driver, "chess", player, best)


def check_pages_cover_the_board_without_gaps_or_overlaps(pool, db, rng):
    """Consecutive pages list every player once, in order, with their ranks"""
    (driver,) = pool.ready(1)
    best: dict[str, int] = {}
    names = rng.sample([f"{first}{last}" for first in "bcdfghjklm" for last in ("ia", "o", "ux")], 23)
    for name in names:
        record(driver, "go", best, name, rng.choice([100, 200, 200, 300, 300, 300, 400, 500]))
    for size in (5, 7):
        for number in range(1, 23 // size + 3):
            expect_page(driver, "go", number, size, best)
    for name in rng.sample(names, 5):
        expect_rank(driver, "go", name, best)
