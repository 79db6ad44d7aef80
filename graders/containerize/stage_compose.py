"""Stage 2: compose.yaml runs the service with PostgreSQL and Redis (CZ201 to CZ208)."""

import pytest

import compose_rules as rules
from findings import expect_no_findings
from labkit.checks import fail
from yamldocs import Mapping, YamlError, load_documents


@pytest.fixture
def compose(submission, impl_dir):
    submission.text("compose.yaml")
    try:
        documents = load_documents(impl_dir / "compose.yaml", "compose.yaml")
    except YamlError as error:
        fail(f"compose.yaml:{error.line}: not valid YAML: {error.problem}", hint="fix the YAML at that line")
    if len(documents) != 1 or not isinstance(documents[0].body, Mapping):
        fail("compose.yaml must be one YAML mapping (services:, volumes:)", hint="see the README's Compose section")
    return documents[0].body


def check_the_three_services_are_declared(compose):
    """compose.yaml declares app, postgres and redis"""
    expect_no_findings(rules.services_rule(compose), "the services")


def check_every_service_has_a_health_check(compose):
    """Every service has a health check"""
    expect_no_findings(rules.healthcheck_rule(compose), "health checks")


def check_app_waits_for_healthy_dependencies(compose):
    """app starts once postgres and redis are healthy"""
    expect_no_findings(rules.depends_on_rule(compose), "start order")


def check_only_app_is_published_on_loopback(compose):
    """Only app publishes a port, on 127.0.0.1"""
    expect_no_findings(rules.ports_rule(compose), "published ports")


def check_database_data_is_on_a_named_volume(compose):
    """PostgreSQL's data is on a named volume"""
    expect_no_findings(rules.volume_rule(compose), "volumes")


def check_no_password_is_written_in_the_file(compose):
    """No password is written in compose.yaml"""
    expect_no_findings(rules.secrets_rule(compose), "secrets")


def check_images_are_pinned(compose):
    """Every image is a pinned version"""
    expect_no_findings(rules.images_rule(compose), "images")


def check_app_is_built_here_and_configured_by_environment(compose):
    """app is built from this folder and configured by its environment"""
    expect_no_findings(rules.app_settings_rule(compose), "app's configuration")
