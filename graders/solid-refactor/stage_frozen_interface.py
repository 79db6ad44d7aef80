"""Stage 3: models.py and the public functions of pricing.py are what other teams rely on: unchanged."""

import ast

from frozen import PUBLIC_FUNCTIONS, parsed, pristine, public_signatures, top_level_classes
from labkit.checks import fail


def check_models_py_is_unchanged(impl_dir):
    """models.py is exactly the shipped file (comments and formatting aside)"""
    tree = parsed(impl_dir / "models.py")
    if isinstance(tree, str):
        fail(tree, hint="restore models.py from the starter: other teams import these classes")
    if ast.dump(tree) == ast.dump(pristine("models.py")):
        return
    theirs, ours = top_level_classes(tree), top_level_classes(pristine("models.py"))
    changed = [name for name in ours if theirs.get(name) != ours[name]] + [name for name in theirs if name not in ours]
    what = f"the class{'es' if len(changed) > 1 else ''} {', '.join(changed)}" if changed else "the module's own lines"
    fail(
        f"models.py was changed: {what} differ{'s' if len(changed) == 1 else ''} from the shipped file",
        hint="models.py is frozen (other teams import it): put what you need in your own modules and restore it "
        "from the starter",
    )


def check_the_public_functions_keep_their_signatures(impl_dir):
    """price(), quote() and quote_many() keep their parameters and return annotations"""
    tree = parsed(impl_dir / "pricing.py")
    if isinstance(tree, str):
        fail(tree)
    theirs, ours = public_signatures(tree), public_signatures(pristine("pricing.py"))
    for name in PUBLIC_FUNCTIONS:
        if name not in theirs:
            fail(f"pricing.py has no top-level function {name}()", expected=ours[name],
                 hint="keep the three public functions as top-level def statements in pricing.py")  # fmt: skip
        if theirs[name] != ours[name]:
            fail(
                f"{name}() changed its signature",
                expected=ours[name],
                got=theirs[name],
                hint="callers rely on these names, parameters and annotations: add new functions beside them",
            )
