"""Stage 4: the Terraform module in terraform/ (CZ401 to CZ405), parsed with python-hcl2."""

import pytest

import terraform_rules as rules
from findings import expect_no_findings
from labkit.checks import fail


@pytest.fixture
def module(submission, impl_dir):
    try:
        return rules.load(impl_dir, submission.files("terraform", (".tf",)))
    except rules.TerraformError as error:
        fail(f"{error.file}: {error.problem}", hint="fix the HCL syntax (terraform fmt shows where, if you have it)")


def check_providers_are_pinned(module):
    """Every provider is required with a source and a bounded version"""
    expect_no_findings(rules.providers_rule(module), "providers")


def check_variables_are_typed_and_validated(module):
    """Every variable has a type and a description; admin_cidr and db_password are validated"""
    expect_no_findings(rules.variables_rule(module), "variables")


def check_secrets_are_sensitive_variables(module):
    """Secrets are sensitive variables without default, never literals"""
    expect_no_findings(rules.secrets_rule(module), "secrets")


def check_no_ssh_or_database_port_is_open_to_all(module):
    """No SSH or database port is open to 0.0.0.0/0"""
    expect_no_findings(rules.open_ports_rule(module), "open ports")


def check_outputs_are_declared(module):
    """The module has the README's outputs"""
    expect_no_findings(rules.outputs_rule(module), "outputs")
