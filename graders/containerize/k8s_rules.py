"""The lab's Kubernetes rules (CZ3xx): schema, policy and cross-references, over manifests read with lines.

kubernetes-validate checks each object alone; the cross-references (selectors, Service ports, references to
ConfigMaps and Secrets) are checked here, as kube-score does, since no schema can see them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import kubernetes_validate

from dockerfile import image_reference_pinned, sensitive_name, url_has_literal_password
from findings import Finding
from yamldocs import Document, Mapping

KUBERNETES_VERSION = "1.31"
KUBERNETES_REFERENCE = r"\$\([A-Za-z_][A-Za-z0-9_]*\)"  # $(VAR): another variable of the container
WORKLOADS = ("Deployment", "StatefulSet")
RESOURCES = ("cpu", "memory")


@dataclass(frozen=True)
class Container:
    document: Document
    workload: str
    body: Mapping

    @property
    def where(self) -> str:
        return f"container {self.body.get('name', '?')} of {self.workload}"


def _m(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else Mapping()


def _name(document: Document) -> str:
    return f"{document.body.get('kind', '?')} {_m(document.body.get('metadata')).get('name', '?')}"


def line_at(body: Any, path: list[Any]) -> int:
    """The line of the deepest key of ``path`` that can be found in ``body``."""
    line = body.line if isinstance(body, Mapping) else 0
    node = body
    for step in path:
        if isinstance(node, Mapping) and step in node:
            line = node.line_of(str(step))
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
            line = node.line if isinstance(node, Mapping) else line
        else:
            break
    return line


def schema_rule(documents: list[Document]) -> list[Finding]:
    """kubernetes-validate --strict on every object: unknown (misspelled) fields and wrong types are errors."""
    found = []
    for document in documents:
        # kubernetes-validate reads both keys before it validates anything, and fails on a missing one.
        missing = [key for key in ("apiVersion", "kind") if not isinstance(document.body.get(key), str)]
        if missing:
            found.append(
                Finding(
                    "kubernetes-validate",
                    document.file,
                    document.line,
                    f"{_name(document)}: no {' and no '.join(missing)} (text) at the top of this object",
                    "start every object with its apiVersion and kind (apps/v1 Deployment, v1 Service, v1 ConfigMap)",
                )
            )
            continue
        try:
            kubernetes_validate.validate(document.body, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = list(error.path)  # kubernetes-validate copies jsonschema's error: path, message
            path += re.findall(r"'([^']+)' was unexpected", str(error.message))[:1]  # the misspelled key's own line
            where = ".".join(str(step) for step in error.path) or "(the object)"
            found.append(
                Finding(
                    "kubernetes-validate",
                    document.file,
                    line_at(document.body, path),
                    f"{_name(document)}: {where}: {error.message}",
                    "use the field names and types of the Kubernetes API reference (spelling and "
                    "case count: livenessProbe, not livenessprobe)",
                )
            )
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
            found.append(
                Finding(
                    "kubernetes-validate",
                    document.file,
                    document.line,
                    f"{_name(document)}: no schema for it: {error}",
                    "use an apiVersion and kind of Kubernetes 1.31 (apps/v1 Deployment, v1 Service)",
                )
            )
    return found


def workloads(documents: list[Document]) -> list[Document]:
    return [d for d in documents if isinstance(d.body, Mapping) and d.body.get("kind") in WORKLOADS]


def containers(documents: list[Document]) -> Iterator[Container]:
    for document in workloads(documents):
        pod = _m(_m(_m(document.body.get("spec")).get("template")).get("spec"))
        for container in pod.get("containers") or []:
            if isinstance(container, Mapping):
                yield Container(document, _name(document), container)


def objects_rule(documents: list[Document]) -> list[Finding]:
    """CZ301: a Deployment or StatefulSet runs the service and a Service reaches it."""
    kinds = {d.body.get("kind") for d in documents if isinstance(d.body, Mapping)}
    found = []
    if not kinds & set(WORKLOADS):
        found.append(
            Finding(
                "CZ301",
                "k8s/",
                0,
                "no Deployment or StatefulSet runs the service",
                "add a Deployment (apps/v1) whose pod runs notes-app",
            )
        )
    if "Service" not in kinds:
        found.append(
            Finding(
                "CZ301",
                "k8s/",
                0,
                "no Service reaches the service",
                "add a Service (v1) selecting the pods, port 80 to the container's 8080",
            )
        )
    return found


def probes_rule(documents: list[Document]) -> list[Finding]:
    """CZ302: every container has a liveness and a readiness probe."""
    return [
        Finding(
            "CZ302",
            c.document.file,
            c.body.line,
            f"{c.where} has no {probe}",
            f"add {probe}: httpGet /healthz (liveness) and /ready (readiness) on the container's port",
        )
        for c in containers(documents)
        for probe in ("livenessProbe", "readinessProbe")
        if not isinstance(c.body.get(probe), dict)
    ]


def resources_rule(documents: list[Document]) -> list[Finding]:
    """CZ303: every container requests and limits CPU and memory."""
    found = []
    for c in containers(documents):
        resources = _m(c.body.get("resources"))
        for kind in ("requests", "limits"):
            missing = [name for name in RESOURCES if name not in _m(resources.get(kind))]
            if missing:
                line = line_at(c.body, ["resources", kind])
                found.append(
                    Finding(
                        "CZ303",
                        c.document.file,
                        line,
                        f"{c.where} sets no {kind} for {', '.join(missing)}",
                        f"set resources.{kind}.cpu and .memory (e.g. 100m and 64Mi): without limits "
                        "one pod can starve its node",
                    )
                )
    return found


def security_rule(documents: list[Document]) -> list[Finding]:
    """CZ304: non-root, read-only root filesystem, no privilege escalation."""
    found = []
    for c in containers(documents):
        pod = _m(_m(_m(c.document.body.get("spec")).get("template")).get("spec"))
        pod_context, context = _m(pod.get("securityContext")), _m(c.body.get("securityContext"))
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        line = line_at(c.body, ["securityContext"])
        for setting, value, wanted in (
            ("runAsNonRoot", non_root, True),
            ("readOnlyRootFilesystem", context.get("readOnlyRootFilesystem"), True),
            ("allowPrivilegeEscalation", context.get("allowPrivilegeEscalation"), False),
        ):
            if value is not wanted:
                found.append(
                    Finding(
                        "CZ304",
                        c.document.file,
                        line,
                        f"{c.where}: {setting} is " + ("not set" if value is None else f"{value!r}"),
                        f"set securityContext.{setting}: {str(wanted).lower()}",
                    )
                )
    return found


def images_rule(documents: list[Document]) -> list[Finding]:
    """CZ305: every container image is a pinned version."""
    return [
        Finding(
            "CZ305",
            c.document.file,
            line_at(c.body, ["image"]),
            f"{c.where} uses image {c.body.get('image')!r}",
            "name a version tag other than latest (notes-app:1.0.0) or a digest, so every node runs the same",
        )
        for c in containers(documents)
        if not image_reference_pinned(str(c.body.get("image", "")))
    ]


def _pod_labels(document: Document) -> Mapping:
    return _m(_m(_m(_m(document.body.get("spec")).get("template")).get("metadata")).get("labels"))


def selector_rule(documents: list[Document]) -> list[Finding]:
    """CZ306: a workload's selector matches its own pod template's labels."""
    found = []
    for document in workloads(documents):
        selector = _m(_m(_m(document.body.get("spec")).get("selector")).get("matchLabels"))
        labels = _pod_labels(document)
        wrong = {key: value for key, value in selector.items() if labels.get(key) != value}
        if not selector or wrong:
            found.append(
                Finding(
                    "CZ306",
                    document.file,
                    line_at(document.body, ["spec", "selector"]),
                    f"{_name(document)}: selector {dict(selector)} does not match the template's labels {dict(labels)}",
                    "make spec.selector.matchLabels a subset of spec.template.metadata.labels",
                )
            )
    return found


def _container_ports(document: Document) -> tuple[set[str], set[int]]:
    names, numbers = set(), set()
    for c in containers([document]):
        for port in c.body.get("ports") or []:
            if isinstance(port, dict):
                names.add(str(port.get("name", "")))
                if isinstance(port.get("containerPort"), int):
                    numbers.add(port["containerPort"])
    return names, numbers


def _port_known(port: Any, names: set[str], numbers: set[int]) -> bool:
    return port in numbers if isinstance(port, int) else str(port) in names


def ports_rule(documents: list[Document]) -> list[Finding]:
    """CZ307: each Service selects pods and targets a port they declare; probes probe a declared port."""
    found = []
    for document in documents:
        if not isinstance(document.body, Mapping) or document.body.get("kind") != "Service":
            continue
        spec = _m(document.body.get("spec"))
        selector = _m(spec.get("selector"))
        targets = [
            w for w in workloads(documents) if selector and all(_pod_labels(w).get(k) == v for k, v in selector.items())
        ]
        if not targets:
            found.append(
                Finding(
                    "CZ307",
                    document.file,
                    line_at(document.body, ["spec", "selector"]),
                    f"{_name(document)}: selector {dict(selector)} selects no pod of k8s/",
                    "use the labels of the Deployment's pod template",
                )
            )
            continue
        names: set[str] = set()
        numbers: set[int] = set()
        for workload in targets:
            more_names, more_numbers = _container_ports(workload)
            names, numbers = names | more_names, numbers | more_numbers
        for index, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, Mapping):
                continue
            target = port.get("targetPort", port.get("port"))
            if not _port_known(target, names, numbers):
                found.append(
                    Finding(
                        "CZ307",
                        document.file,
                        line_at(document.body, ["spec", "ports", index, "targetPort"]),
                        f"{_name(document)}: targetPort {target!r} is no port of the selected pods "
                        f"(they declare {sorted(numbers)} named {sorted(names - {''})})",
                        "target the container's containerPort, by number or by name",
                    )
                )
    for c in containers(documents):
        names, numbers = _container_ports(c.document)
        for probe in ("livenessProbe", "readinessProbe"):
            action = _m(c.body.get(probe)).get("httpGet") or _m(c.body.get(probe)).get("tcpSocket")
            if isinstance(action, dict) and not _port_known(action.get("port"), names, numbers):
                found.append(
                    Finding(
                        "CZ307",
                        c.document.file,
                        line_at(c.body, [probe]),
                        f"{c.where}: {probe} probes {action.get('port')!r}, a port the container does not declare",
                        "probe the containerPort the service listens on (8080, or its name)",
                    )
                )
    return found


def _literal_secret(name: str, value: Any) -> bool:
    if name.upper().endswith("_URL"):
        return url_has_literal_password(str(value), KUBERNETES_REFERENCE)
    return sensitive_name(name) and name.upper() != "GREETING"


def secrets_rule(documents: list[Document]) -> list[Finding]:
    """CZ308: secrets are referenced from a Secret created outside k8s/, never written in the manifests."""
    found = []
    config_maps = {
        str(_m(d.body.get("metadata")).get("name"))
        for d in documents
        if isinstance(d.body, Mapping) and d.body.get("kind") == "ConfigMap"
    }
    for document in documents:
        if not isinstance(document.body, Mapping):
            continue
        if document.body.get("kind") == "Secret":
            found.append(
                Finding(
                    "CZ308",
                    document.file,
                    document.line,
                    f"{_name(document)} writes a secret in the repository",
                    "create the Secret outside the manifests (kubectl create secret generic notes-db "
                    "--from-literal=url=...) and only reference it",
                )
            )
        if document.body.get("kind") == "ConfigMap":
            data = _m(document.body.get("data"))
            found += [
                Finding(
                    "CZ308",
                    document.file,
                    data.line_of(key),
                    f"{_name(document)} holds {key}, a secret",
                    "move it to a Secret and reference it with secretKeyRef",
                )
                for key, value in data.items()
                if _literal_secret(str(key), value)
            ]
    for c in containers(documents):
        env_names = set()
        for entry in c.body.get("env") or []:
            if not isinstance(entry, Mapping):
                continue
            name = str(entry.get("name", ""))
            env_names.add(name)
            if "value" in entry and _literal_secret(name, entry["value"]):
                found.append(
                    Finding(
                        "CZ308",
                        c.document.file,
                        entry.line,
                        f"{c.where}: {name} is written in the manifest",
                        f"take {name} from a Secret: valueFrom.secretKeyRef",
                    )
                )
            reference = _m(_m(entry.get("valueFrom")).get("configMapKeyRef"))
            if reference and str(reference.get("name")) not in config_maps:
                found.append(
                    Finding(
                        "CZ308",
                        c.document.file,
                        entry.line,
                        f"{c.where}: ConfigMap {reference.get('name')!r} is not in k8s/",
                        "reference a ConfigMap that k8s/ defines",
                    )
                )
            if name == "DATABASE_URL" and not _m(entry.get("valueFrom")).get("secretKeyRef"):
                found.append(
                    Finding(
                        "CZ308",
                        c.document.file,
                        entry.line,
                        f"{c.where}: DATABASE_URL does not come from a Secret",
                        "valueFrom: {secretKeyRef: {name: notes-db, key: url}}",
                    )
                )
        for source in c.body.get("envFrom") or []:
            reference = _m(_m(source).get("configMapRef"))
            if reference and str(reference.get("name")) not in config_maps:
                found.append(
                    Finding(
                        "CZ308",
                        c.document.file,
                        line_at(c.body, ["envFrom"]),
                        f"{c.where}: ConfigMap {reference.get('name')!r} is not in k8s/",
                        "reference a ConfigMap that k8s/ defines",
                    )
                )
            if _m(source).get("secretRef"):
                env_names.add("DATABASE_URL")
        if "DATABASE_URL" not in env_names:
            found.append(
                Finding(
                    "CZ308",
                    c.document.file,
                    c.body.line,
                    f"{c.where} gets no DATABASE_URL",
                    "set env DATABASE_URL from the Secret notes-db, key url (secretKeyRef)",
                )
            )
    return found
