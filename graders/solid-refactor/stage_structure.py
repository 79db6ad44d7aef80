"""Stage 4: the code's shape. Small functions, each name of the business in one module, no copied function."""

import code_shape
from labkit.checks import fail, log

MAX_COMPLEXITY = 5
MAX_LINES = 20
NAMES = {"socks", "gift-card", "clearance", "gold", "silver", "SAVE10", "TENPERCENT", "FREESHIP"}
SHOWN = 6


def readable_code(impl_dir):
    errors = code_shape.parse_errors(impl_dir)
    if errors:
        fail(f"{len(errors)} of your files do not parse", got="\n".join(errors[:SHOWN]),
             hint="the structure stage reads every .py file of your folder (models.py and tests aside)")  # fmt: skip
    log(f"measured {len(code_shape.code_files(impl_dir))} files of your code")


def over(measured, limit):
    return sorted((m for m in measured if m.value > limit), key=lambda m: -m.value)


def files_of(places):
    return {place.split(":")[0] for place in places}


def check_every_function_is_simple(impl_dir):
    """Every function's cyclomatic complexity is at most 5 (radon)"""
    readable_code(impl_dir)
    offenders = over(code_shape.complexities(impl_dir), MAX_COMPLEXITY)
    if offenders:
        fail(f"{len(offenders)} function(s) are more complex than {MAX_COMPLEXITY}",
             expected=f"a cyclomatic complexity of at most {MAX_COMPLEXITY} everywhere",
             got="\n".join(f"{m.where}: {m.value}" for m in offenders[:SHOWN]),
             hint="a function that decides several things is several functions; a rule that branches on a name "
             "(tier, zone, code) can look the name up in a table")  # fmt: skip


def check_every_function_is_short(impl_dir):
    """Every function spans at most 20 lines"""
    readable_code(impl_dir)
    offenders = over(code_shape.lengths(impl_dir), MAX_LINES)
    if offenders:
        fail(f"{len(offenders)} function(s) are longer than {MAX_LINES} lines",
             expected=f"at most {MAX_LINES} lines from def to the last line",
             got="\n".join(f"{m.where}: {m.value} lines" for m in offenders[:SHOWN]),
             hint="extract the steps of a long function into functions whose names say what they do")  # fmt: skip


def check_each_business_name_lives_in_one_module(impl_dir):
    """Each category, tier and coupon name is written in one module"""
    readable_code(impl_dir)
    written = code_shape.string_literals(impl_dir, NAMES)
    spread = {name: places for name, places in written.items() if len(files_of(places)) > 1}
    if spread:
        name, places = sorted(spread.items())[0]
        fail(f'"{name}" is written in {len(files_of(places))} files: {", ".join(places[:SHOWN])}',
             expected=f'"{name}" written in one module, the one that owns it',
             got=", ".join(f'"{other}" at {len(where)} places' for other, where in sorted(spread.items())),
             hint="a name several rules need belongs in one helper module (rules/_something.py) that they import; "
             "two copies drift apart the day one of them changes")  # fmt: skip


def check_no_function_is_copied(impl_dir):
    """No two functions have the same body"""
    readable_code(impl_dir)
    copies = code_shape.copied_bodies(impl_dir)
    if copies:
        fail(f"{len(copies)} function bod{'y is' if len(copies) == 1 else 'ies are'} written more than once: "
             f"{' = '.join(copies[0])}",
             got="\n".join(" = ".join(group) for group in copies[:SHOWN]),
             hint="keep one of them in a helper module (rules/_shared.py, say) and import it where needed")  # fmt: skip
