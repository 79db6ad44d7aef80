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
SERVICE_PORT = 8080  # where the service listens (its PORT default): how its containers are recognised
PROBE_PATHS = {"livenessProbe": "/healthz", "readinessProbe": "/ready"}
PROBE_WHY = {
    "livenessProbe": "/healthz answers while the process serves: a liveness probe on /ready restarts every pod "
    "when the database is down",
    "readinessProbe": "/ready fails while PostgreSQL or Redis is out of reach, so traffic goes elsewhere",
}


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
    seen: dict[tuple[str, str], Document] = {}
    for document in documents:
        if not isinstance(document.body, Mapping):
            continue
        name = _m(document.body.get("metadata")).get("name")
        kind = str(document.body.get("kind", "?"))
        if not isinstance(name, str) or not name:
            found.append(
                Finding(
                    "CZ301",
                    document.file,
                    line_at(document.body, ["metadata"]),
                    f"{kind} has no metadata.name: the API server refuses an object without one",
                    "name every object: metadata: {name: notes}",
                )
            )
        elif (kind, name) in seen:
            first = seen[(kind, name)]
            found.append(
                Finding(
                    "CZ301",
                    document.file,
                    line_at(document.body, ["metadata", "name"]),
                    f"{kind} {name} is defined twice (first at {first.file}:{first.line}): "
                    "the second replaces the first",
                    "give each object of a kind its own name",
                )
            )
        else:
            seen[(kind, name)] = document
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


def _config_maps(documents: list[Document]) -> dict[str, Mapping]:
    """Each ConfigMap of k8s/ by name, with its data."""
    return {
        str(_m(d.body.get("metadata")).get("name")): _m(d.body.get("data"))
        for d in documents
        if isinstance(d.body, Mapping) and d.body.get("kind") == "ConfigMap"
    }


def _unnamed(c: Container, line: int, what: str) -> Finding:
    return Finding(
        "CZ308",
        c.document.file,
        line,
        f"{c.where}: its {what} names no object",
        "give the reference the name of its ConfigMap or Secret (and the key, for a ...KeyRef): "
        "the pod cannot start without it",
    )


def _key_reference_findings(c: Container, entry: Mapping, name: str, config_maps: dict[str, Mapping]) -> list[Finding]:
    """An env entry's configMapKeyRef or secretKeyRef: named, with a key; a ConfigMap's key must be defined."""
    found = []
    value_from = _m(entry.get("valueFrom"))
    for kind in ("configMapKeyRef", "secretKeyRef"):
        if kind not in value_from:
            continue
        reference = _m(value_from.get(kind))
        if not reference.get("name") or not reference.get("key"):
            found.append(_unnamed(c, entry.line, f"{name} {kind}"))
        elif kind == "configMapKeyRef" and str(reference["name"]) not in config_maps:
            found.append(
                Finding(
                    "CZ308",
                    c.document.file,
                    entry.line,
                    f"{c.where}: ConfigMap {reference.get('name')!r} is not in k8s/",
                    "reference a ConfigMap that k8s/ defines",
                )
            )
        elif kind == "configMapKeyRef" and str(reference["key"]) not in config_maps[str(reference["name"])]:
            found.append(
                Finding(
                    "CZ308",
                    c.document.file,
                    entry.line,
                    f"{c.where}: {name} reads key {reference['key']!r}, which ConfigMap {reference['name']} "
                    "does not define",
                    f"add {reference['key']} to the ConfigMap's data, or read a key it has",
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
    config_maps = _config_maps(documents)
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
            found += _key_reference_findings(c, entry, name, config_maps)
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
            source = _m(source)
            line = source.line or line_at(c.body, ["envFrom"])
            for kind in ("configMapRef", "secretRef"):
                if kind in source and not _m(source.get(kind)).get("name"):
                    found.append(_unnamed(c, line, f"envFrom {kind}"))
            reference = _m(source.get("configMapRef"))
            if reference.get("name") and str(reference.get("name")) not in config_maps:
                found.append(
                    Finding(
                        "CZ308",
                        c.document.file,
                        line,
                        f"{c.where}: ConfigMap {reference.get('name')!r} is not in k8s/",
                        "reference a ConfigMap that k8s/ defines",
                    )
                )
            if _m(source.get("secretRef")).get("name"):
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


def _service_port_names(c: Container) -> set[str]:
    return {
        str(port["name"])
        for port in c.body.get("ports") or []
        if isinstance(port, Mapping) and port.get("containerPort") == SERVICE_PORT and port.get("name")
    }


def _service_containers(documents: list[Document]) -> list[Container]:
    """The containers that run the service: those declaring its port."""
    return [
        c
        for c in containers(documents)
        if any(
            isinstance(port, Mapping) and port.get("containerPort") == SERVICE_PORT
            for port in c.body.get("ports") or []
        )
    ]


def _gets_redis_url(c: Container, config_maps: dict[str, Mapping]) -> bool:
    for entry in c.body.get("env") or []:
        if (
            isinstance(entry, Mapping)
            and entry.get("name") == "REDIS_URL"
            and ("value" in entry or "valueFrom" in entry)
        ):
            return True
    for source in c.body.get("envFrom") or []:
        source = _m(source)
        prefix = str(source.get("prefix") or "")
        if _m(source.get("secretRef")).get("name"):
            return True  # the Secret is made outside k8s/: it may hold REDIS_URL
        config_map = config_maps.get(str(_m(source.get("configMapRef")).get("name")), Mapping())
        if any(prefix + str(key) == "REDIS_URL" for key in config_map):
            return True
    return False


def service_container_rule(documents: list[Document]) -> list[Finding]:
    """CZ309: a container runs the service on its port, probed on the right paths, given REDIS_URL, behind a Service."""
    service_containers = _service_containers(documents)
    if not service_containers:
        return [
            Finding(
                "CZ309",
                "k8s/",
                0,
                f"no container of a Deployment or StatefulSet declares containerPort {SERVICE_PORT}, "
                "the port the service listens on",
                f"declare ports: [{{name: http, containerPort: {SERVICE_PORT}}}] on the service's container "
                "(and do not change PORT)",
            )
        ]
    found = []
    config_maps = _config_maps(documents)
    for c in service_containers:
        for probe, path in PROBE_PATHS.items():
            action = _m(c.body.get(probe)).get("httpGet")
            if probe == "readinessProbe" and isinstance(c.body.get(probe), Mapping) and not isinstance(action, Mapping):
                found.append(
                    Finding(
                        "CZ309",
                        c.document.file,
                        line_at(c.body, [probe]),
                        f"{c.where}: its readinessProbe is not an httpGet of {path}",
                        f"probe readiness with httpGet {path}: only it says whether PostgreSQL and Redis answer",
                    )
                )
            elif (
                isinstance(action, Mapping)
                and _port_known(action.get("port"), *_container_ports(c.document))  # else CZ307 reports it
                and not _port_known(action.get("port"), _service_port_names(c), {SERVICE_PORT})
            ):
                found.append(
                    Finding(
                        "CZ309",
                        c.document.file,
                        line_at(c.body, [probe, "httpGet"]),
                        f"{c.where}: its {probe} asks port {action.get('port')!r}, where the service does not listen",
                        f"probe port {SERVICE_PORT} (or the name of that containerPort)",
                    )
                )
            elif isinstance(action, Mapping) and action.get("path", "/") != path:
                found.append(
                    Finding(
                        "CZ309",
                        c.document.file,
                        line_at(c.body, [probe, "httpGet"]),
                        f"{c.where}: its {probe} asks for {action.get('path', '/ (no path)')!r}, not {path}",
                        f"use path: {path} ({PROBE_WHY[probe]})",
                    )
                )
        if not _gets_redis_url(c, config_maps):
            found.append(
                Finding(
                    "CZ309",
                    c.document.file,
                    c.body.line,
                    f"{c.where} gets no REDIS_URL: /ready would answer 503 for ever",
                    "set env REDIS_URL (a value, or a key of a ConfigMap in k8s/), or load it with envFrom",
                )
            )
        names = _service_port_names(c)
        reached = any(
            document.body.get("kind") == "Service"
            and (selector := _m(_m(document.body.get("spec")).get("selector")))
            and all(_pod_labels(c.document).get(k) == v for k, v in selector.items())
            and any(
                isinstance(port, Mapping)
                and _port_known(port.get("targetPort", port.get("port")), names, {SERVICE_PORT})
                for port in _m(document.body.get("spec")).get("ports") or []
            )
            for document in documents
            if isinstance(document.body, Mapping)
        )
        if not reached:
            found.append(
                Finding(
                    "CZ309",
                    c.document.file,
                    c.body.line,
                    f"{c.where}: no Service selects its pod with a targetPort of {SERVICE_PORT}",
                    f"add a Service whose selector matches the pod's labels and whose targetPort is {SERVICE_PORT} "
                    "(or the port's name)",
                )
            )
    return found
