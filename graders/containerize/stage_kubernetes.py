"""Stage 3: the manifests in k8s/ are valid objects, follow the policy, and refer to each other correctly."""

import pytest

import k8s_rules as rules
from findings import expect_no_findings
from labkit.checks import fail
from yamldocs import Mapping, YamlError, load_documents


@pytest.fixture
def manifests(submission, impl_dir):
    documents = []
    for name in submission.files("k8s", (".yaml", ".yml")):
        try:
            documents += load_documents(impl_dir / name, name)
        except YamlError as error:
            fail(f"{error.file}:{error.line}: not valid YAML: {error.problem}", hint="fix the YAML at that line")
    for document in documents:
        if not isinstance(document.body, Mapping):
            fail(
                f"{document.file}: document {document.index + 1} is not a Kubernetes object (a mapping)",
                hint="each YAML document in k8s/ is one object with apiVersion, kind and metadata",
            )
    return documents


def check_manifests_pass_the_strict_schema(manifests):
    """Every object passes kubernetes-validate --strict (Kubernetes 1.31)"""
    expect_no_findings(rules.schema_rule(manifests), "schema errors")


def check_a_workload_and_a_service_exist(manifests):
    """A Deployment or StatefulSet and a Service"""
    expect_no_findings(rules.objects_rule(manifests), "objects")


def check_containers_have_probes(manifests):
    """Every container has liveness and readiness probes"""
    expect_no_findings(rules.probes_rule(manifests), "probes")


def check_containers_have_requests_and_limits(manifests):
    """Every container requests and limits CPU and memory"""
    expect_no_findings(rules.resources_rule(manifests), "resources")


def check_containers_run_locked_down(manifests):
    """Non-root, read-only root filesystem, no privilege escalation"""
    expect_no_findings(rules.security_rule(manifests), "security context")


def check_container_images_are_pinned(manifests):
    """Every container image is a pinned version"""
    expect_no_findings(rules.images_rule(manifests), "images")


def check_selectors_match_pod_labels(manifests):
    """Each workload's selector matches its pod template's labels"""
    expect_no_findings(rules.selector_rule(manifests), "selectors")


def check_services_and_probes_target_declared_ports(manifests):
    """Services select pods and target their ports; probes probe declared ports"""
    expect_no_findings(rules.ports_rule(manifests), "ports")


def check_the_service_container_is_wired(manifests):
    """The service's container: its port, probe paths, REDIS_URL and a Service"""
    expect_no_findings(rules.service_container_rule(manifests), "the service's container")


def check_secrets_are_referenced_not_written(manifests):
    """Secrets are referenced, never written in k8s/"""
    expect_no_findings(rules.secrets_rule(manifests), "secrets and configuration")
