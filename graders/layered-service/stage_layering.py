"""Stage 2: each layer imports only what it may, seen statically and in fresh interpreters."""

from labkit.checks import fail
from layering import hidden_imports, lint_imports, missing_files, sql_outside_adapters

IMPORT_PROBE = "lsprobe_imports"
DRIVERS = ("psycopg", "psycopg2", "psycopg_pool", "sqlite3")
FRAMEWORKS = ("http.server", "socketserver", "wsgiref")
RUNTIME_RULES = {
    "shop.domain": ("shop.service_layer", "shop.adapters", "shop.entrypoints", *DRIVERS, *FRAMEWORKS),
    "shop.service_layer": ("shop.adapters", "shop.entrypoints", *DRIVERS, *FRAMEWORKS),
}


def check_package_layout(impl_dir):
    """The package has the README's layout"""
    missing = missing_files(impl_dir)
    if missing:
        fail(
            "files of the README's layout are missing",
            expected="every file of 'Getting started'",
            got=", ".join(missing),
            hint="keep the package layout the README fixes: the grader imports these",
        )


def check_import_contracts(impl_dir, run_info):
    """The grader's import-linter contracts hold: domain, service layer, entrypoints and adapters"""
    kept, report = lint_imports(impl_dir, run_info.run_dir / "layered-service-lint")
    if not kept:
        fail(
            "a layer imports what the README's layering rules forbid (import-linter's report below)",
            got=report[:3000],
            hint="an import inside a function or under TYPE_CHECKING counts too, and so does a chain through "
            "another module: give the service layer its unit of work as an argument instead",
        )


def check_no_import_the_static_check_cannot_see(impl_dir):
    """The domain and the service layer import nothing through importlib, __import__, exec or eval"""
    findings = hidden_imports(impl_dir)
    if findings:
        fail(
            "an import the static contracts cannot follow, in the domain or the service layer",
            got="\n".join(str(finding) for finding in findings[:10]),
            hint="rule 5 of the README: what a layer needs, it imports plainly or receives as an argument",
        )


def check_sql_lives_in_the_adapters(impl_dir):
    """No SQL outside shop.adapters"""
    findings = sql_outside_adapters(impl_dir)
    if findings:
        fail(
            "SQL or a database call outside shop/adapters",
            got="\n".join(str(finding) for finding in findings[:10]),
            hint="the handler calls a use case; the use case calls a repository; only the repository speaks SQL",
        )


def check_domain_loads_nothing_outside_itself(start_probe):
    """Importing every module of shop.domain in a fresh interpreter loads no other layer, driver or framework"""
    expect_layer_loads_nothing_forbidden(start_probe, "shop.domain")


def check_service_layer_loads_no_adapter(start_probe):
    """Importing every module of shop.service_layer in a fresh interpreter loads no adapter, driver or framework"""
    expect_layer_loads_nothing_forbidden(start_probe, "shop.service_layer")


def expect_layer_loads_nothing_forbidden(start_probe, package):
    answer = start_probe(IMPORT_PROBE, {}).call("load_layer", package, timeout=20.0)
    if answer["failed"]:
        fail(
            f"importing {package} in a fresh interpreter failed",
            got="\n".join(f"{name}: {error}" for name, error in answer["failed"].items()),
            hint="the grader imports each layer on its own, with no DATABASE_URL: do nothing at import time",
        )
    forbidden = RUNTIME_RULES[package]
    loaded = [name for name in answer["loaded"] if any(name == f or name.startswith(f + ".") for f in forbidden)]
    if loaded:
        fail(
            f"importing {package} loaded modules it must not depend on",
            expected=f"none of {', '.join(forbidden)}",
            got=", ".join(loaded),
            hint="look for an import the static check missed: importlib, a package __init__.py that imports "
            "another layer (shop/__init__.py must import nothing), or code run at import time",
        )
