"""The checkov checks this lab runs (README, "The grader's instruments"), and what to change for each.

Only checks that apply to these files and are not already one of this lab's rules with the same intent: those
(CKV_DOCKER_2/3, CKV_K8S_8 to 14, 20, 22, CKV_AWS_24, 41, ...) are not run again, so that one problem is never
reported twice under two names. Every check here forbids something; none asks for a feature the README does not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from findings import Finding
from labkit.tools.checkov import CheckovFinding

DOCKERFILE = {
    "CKV_DOCKER_1": "do not EXPOSE 22: the service needs no SSH server; use docker exec to look inside",
    "CKV2_DOCKER_2": "drop curl's -k / --insecure: a download must be checked against its certificate",
    "CKV2_DOCKER_3": "drop wget's --no-check-certificate: a download must be checked against its certificate",
    "CKV2_DOCKER_4": "drop pip's --trusted-host: it turns off certificate checks for that index",
    "CKV2_DOCKER_5": "remove PYTHONHTTPSVERIFY=0: it turns off certificate checks for every HTTPS call of Python",
    "CKV2_DOCKER_6": "remove NODE_TLS_REJECT_UNAUTHORIZED=0: it turns off certificate checks in Node.js",
    "CKV2_DOCKER_7": "drop apk's --allow-untrusted: install only signed packages",
    "CKV2_DOCKER_8": "drop apt-get's --allow-unauthenticated: install only signed packages",
    "CKV2_DOCKER_9": "drop yum's --nogpgcheck: install only signed packages",
    "CKV2_DOCKER_10": "drop rpm's --nodigest/--nosignature/--noverify/--nofiledigest: install only verified packages",
    "CKV2_DOCKER_11": "drop apt-get's --force-yes: it installs unsigned packages without asking",
    "CKV2_DOCKER_12": "remove NPM_CONFIG_STRICT_SSL=false: it turns off certificate checks in npm",
    "CKV2_DOCKER_13": "remove strict-ssl false from npm or yarn's configuration",
    "CKV2_DOCKER_14": "remove GIT_SSL_NO_VERIFY: it turns off certificate checks in git",
    "CKV2_DOCKER_15": "remove sslverify=false from yum's configuration",
    "CKV2_DOCKER_16": "remove PIP_TRUSTED_HOST: it turns off certificate checks for that index",
    "CKV2_DOCKER_17": "do not set passwords with chpasswd in a build: they stay in a layer",
}
KUBERNETES = {
    "CKV_K8S_16": "remove privileged: true: a privileged container is root on the node",
    "CKV_K8S_17": "remove hostPID: true: the pod would see and signal every process of the node",
    "CKV_K8S_18": "remove hostIPC: true: the pod would share the node's shared memory",
    "CKV_K8S_19": "remove hostNetwork: true: the pod would listen on the node's own interfaces; use a Service",
    "CKV_K8S_25": "add no capability (securityContext.capabilities.add): the service needs none",
    "CKV_K8S_26": "remove hostPort: a Service reaches the pod; hostPort ties it to one port of one node",
    "CKV_K8S_27": "do not mount the Docker socket (/var/run/docker.sock): it gives root on the node",
    "CKV_K8S_39": "never add CAP_SYS_ADMIN: it is nearly root on the node",
}
TERRAFORM = {
    "CKV_AWS_16": "set storage_encrypted = true on the aws_db_instance: the data is encrypted at rest",
    "CKV_AWS_17": "set publicly_accessible = false (or leave it out): the database is reached from the app only",
    "CKV_AWS_25": "do not open port 3389 (RDP) to 0.0.0.0/0 or ::/0",
}
FRAMEWORKS = {"dockerfile": DOCKERFILE, "kubernetes": KUBERNETES, "terraform": TERRAFORM}
CHECKS = [check for checks in FRAMEWORKS.values() for check in checks]


def scanned_copy(impl_dir: Path, into: Path, dockerfile: str, manifests: list[str], modules: list[str]) -> Path:
    """The files checkov reads, copied at the same relative paths into ``into``: nothing else of the learner's
    folder (a .checkov.yaml, say) can change what it checks."""
    shutil.rmtree(into, ignore_errors=True)
    for name in (dockerfile, *manifests, *modules):
        (into / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(impl_dir / name, into / name)
    return into


def as_finding(found: CheckovFinding) -> Finding:
    change = next((checks[found.check_id] for checks in FRAMEWORKS.values() if found.check_id in checks), found.name)
    if found.guideline:
        change += f" (checkov's guideline: {found.guideline})"
    problem = f"{found.name} ({found.resource})" if found.resource else found.name
    if found.suppressed:
        problem += "; skipped in the file (checkov:skip), which does not silence the grader's checks"
    return Finding(found.check_id, found.file, found.line, problem, change)


def findings_in(found: list[CheckovFinding], framework: str) -> list[Finding]:
    checks = FRAMEWORKS[framework]
    return [as_finding(item) for item in found if item.check_id in checks]
