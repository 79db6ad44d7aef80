"""Stage 7: checkov's policy checks on the Dockerfile, k8s/ and terraform/ (the README's list), run once."""

import pytest

import policy
from findings import expect_no_findings
from labkit.tools.checkov import scan
from submission import Submission


@pytest.fixture(scope="module")
def checkov_findings(impl_dir, run_info):
    submission = Submission(impl_dir)
    copy = policy.scanned_copy(
        impl_dir,
        run_info.run_dir / "checkov",
        "Dockerfile",
        submission.files("k8s", (".yaml", ".yml")),
        submission.files("terraform", (".tf",)),
    )
    return scan(copy, frameworks=list(policy.FRAMEWORKS), checks=policy.CHECKS).findings


def check_dockerfile_passes_checkov(checkov_findings):
    """checkov finds no SSH port and no certificate check turned off in the Dockerfile"""
    expect_no_findings(policy.findings_in(checkov_findings, "dockerfile"), "checkov on the Dockerfile")


def check_manifests_pass_checkov(checkov_findings):
    """checkov finds no privileged pod, host namespace, host port or added capability in k8s/"""
    expect_no_findings(policy.findings_in(checkov_findings, "kubernetes"), "checkov on k8s/")


def check_terraform_passes_checkov(checkov_findings):
    """checkov finds no public or unencrypted database and no RDP open to all in terraform/"""
    expect_no_findings(policy.findings_in(checkov_findings, "terraform"), "checkov on terraform/")
