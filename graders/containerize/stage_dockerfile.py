"""Stage 1: the Dockerfile and .dockerignore, read statically (hadolint, and the lab's rules CZ101 to CZ107)."""

from dockerfile_rules import (
    baked_config_rule,
    base_image_rule,
    dockerignore_rule,
    exec_form_rule,
    exposed_port_rule,
    healthcheck_rule,
    user_rule,
)
from findings import expect_no_findings
from hadolint import lint


def check_hadolint_finds_nothing(dockerfile, impl_dir, run_info):
    """hadolint reports no error or warning"""
    expect_no_findings(lint(impl_dir / "Dockerfile", run_info.run_dir / "hadolint"), "hadolint's findings")


def check_base_image_is_a_build_argument(dockerfile):
    """The base image is ${BASE_IMAGE}, with a pinned default"""
    expect_no_findings(base_image_rule(dockerfile), "the base image")


def check_image_runs_as_a_non_root_user(final_stage):
    """The image runs as a non-root user"""
    expect_no_findings(user_rule(final_stage), "the user the service runs as")


def check_image_has_a_health_check(final_stage):
    """The image has a HEALTHCHECK in exec form, every 5 s at most"""
    expect_no_findings(healthcheck_rule(final_stage), "the health check")


def check_command_is_in_exec_form(final_stage):
    """CMD and ENTRYPOINT are in exec form"""
    expect_no_findings(exec_form_rule(final_stage), "the command")


def check_exposed_port_is_the_service_port(final_stage):
    """EXPOSE names only the port the service listens on"""
    expect_no_findings(exposed_port_rule(final_stage), "the exposed port")


def check_no_secret_or_setting_is_baked_in(dockerfile):
    """No secret and no deployment setting in ENV or ARG"""
    expect_no_findings(baked_config_rule(dockerfile), "values baked into the image")


def check_dockerignore_keeps_the_context_small(impl_dir):
    """.dockerignore keeps .git, .env, caches and deployment files out"""
    path = impl_dir / ".dockerignore"
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None
    expect_no_findings(dockerignore_rule(text), "the build context")
