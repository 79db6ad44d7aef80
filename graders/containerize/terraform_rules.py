"""The lab's Terraform rules (CZ4xx), over terraform/*.tf parsed with python-hcl2 (no terraform binary needed).

hcl2 gives no line numbers, so a finding's line is found again in the file's text by the block's header."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from dockerfile import sensitive_name
from findings import Finding

CLOSED_PORTS = {22: "SSH", 3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis"}
OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
OUTPUTS = ("app_security_group_id", "db_endpoint")
OUTPUT_EXAMPLES = {
    "app_security_group_id": "value = aws_security_group.app.id",
    "db_endpoint": "value = aws_db_instance.notes.endpoint",
}
VALIDATED = ("admin_cidr", "db_password")
PROVIDER_CREDENTIALS = ("access_key", "secret_key", "token", "password")
INTERPOLATED = re.compile(r"\A\$\{.*\}\Z", re.S)


class TerraformError(Exception):
    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file, self.problem = file, problem


@dataclass
class Module:
    """Every block of every file, each with the file it came from."""

    texts: dict[str, str] = field(default_factory=dict)
    blocks: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (file, block type, body)

    def of(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(file, body) for file, block, body in self.blocks if block == kind]

    def line(self, file: str, pattern: str, after: int = 0) -> int:
        """The first line at or after ``after`` whose text matches ``pattern``; 0 when none does."""
        for number, text in enumerate(self.texts[file].splitlines(), start=1):
            if number >= after and re.search(pattern, text):
                return number
        return 0


def load(folder: Path, names: list[str]) -> Module:
    module = Module()
    for name in names:
        text = (folder / name).read_text(encoding="utf-8", errors="replace")
        try:
            parsed = hcl2.loads(text, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise TerraformError(name, f"not valid HCL: {first}") from error
        module.texts[name] = text
        for kind, entries in parsed.items():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    module.blocks.append((name, kind, entry))
    return module


def _labelled(module: Module, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(file, label, body) of blocks with one label: variable "x", output "x", provider "x"."""
    return [
        (file, label, body)
        for file, entry in module.of(kind)
        for label, body in entry.items()
        if isinstance(body, dict)
    ]


def _resources(module: Module, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (file, name, body)
        for file, entry in module.of("resource")
        for rtype, named in entry.items()
        if rtype == kind and isinstance(named, dict)
        for name, body in named.items()
    ]


def _pinned(constraint: str) -> bool:
    """A version constraint with an upper bound: ~> x.y, = x.y.z, a bare x.y.z, or one with < or <=."""
    parts = [part.strip() for part in constraint.split(",") if part.strip()]
    return any(part.startswith(("~>", "<", "=")) or re.fullmatch(r"v?\d+\.\d+\.\d+", part) for part in parts)


def providers_rule(module: Module) -> list[Finding]:
    """CZ401: every provider the module uses has a source and a version constraint with an upper bound."""
    required: dict[str, Any] = {}
    for _file, terraform in module.of("terraform"):
        for block in terraform.get("required_providers") or []:
            required.update({k: v for k, v in block.items() if not k.startswith("__")})
    used = {rtype.split("_", 1)[0] for _f, entry in module.of("resource") for rtype in entry}
    used |= {label for _f, label, _b in _labelled(module, "provider")}
    found = []
    for provider in sorted(used | set(required)):
        spec = required.get(provider)
        file = next(iter(module.texts))
        if not isinstance(spec, dict):
            found.append(
                Finding(
                    "CZ401",
                    file,
                    0,
                    f"provider {provider} is not in required_providers",
                    f'add {provider} = {{ source = "hashicorp/{provider}", version = "~> 5.80" }} under '
                    "terraform { required_providers { ... } }",
                )
            )
            continue
        file = next((f for f, _t in module.of("terraform")), file)
        line = module.line(file, rf"^\s*{re.escape(provider)}\s*=")
        if not spec.get("source"):
            found.append(
                Finding(
                    "CZ401", file, line, f"provider {provider} has no source", f'add source = "hashicorp/{provider}"'
                )
            )
        if not _pinned(str(spec.get("version", ""))):
            found.append(
                Finding(
                    "CZ401",
                    file,
                    line,
                    f"provider {provider}'s version {spec.get('version')!r} has no upper bound",
                    'pin it: version = "~> 5.80" (a new major version cannot arrive unseen)',
                )
            )
    return found


def variables_rule(module: Module) -> list[Finding]:
    """CZ402: every variable has a type and a description; admin_cidr and db_password have a validation."""
    found = []
    for file, name, body in _labelled(module, "variable"):
        line = module.line(file, rf'^\s*variable\s+"{re.escape(name)}"')
        for attribute in ("type", "description"):
            if attribute not in body:
                found.append(
                    Finding(
                        "CZ402",
                        file,
                        line,
                        f"variable {name} has no {attribute}",
                        f"give {name} a {attribute} (type = string, number, list(string), ...)",
                    )
                )
        for validation in body.get("validation") or []:
            missing = [
                key
                for key in ("condition", "error_message")
                if not isinstance(validation, dict) or key not in validation
            ]
            if missing:
                found.append(
                    Finding(
                        "CZ402",
                        file,
                        line,
                        f"a validation block of variable {name} has no {' and no '.join(missing)}",
                        "terraform refuses a validation without both: condition = <a test of var."
                        f'{name}>, error_message = "<what a good value looks like>."',
                    )
                )
        if name in VALIDATED and not body.get("validation"):
            found.append(
                Finding(
                    "CZ402",
                    file,
                    line,
                    f"variable {name} has no validation block",
                    f"add validation {{ condition = ..., error_message = ... }} to {name}",
                )
            )
    names = {name for _f, name, _b in _labelled(module, "variable")}
    found += [
        Finding(
            "CZ402", "terraform/", 0, f"there is no variable {name}", f'declare variable "{name}" as the README says'
        )
        for name in VALIDATED
        if name not in names
    ]
    return found


def secrets_rule(module: Module) -> list[Finding]:
    """CZ403: secrets are sensitive variables without a default, never literals."""
    found = []
    for file, name, body in _labelled(module, "variable"):
        if sensitive_name(name):
            line = module.line(file, rf'^\s*variable\s+"{re.escape(name)}"')
            if body.get("sensitive") is not True:
                found.append(
                    Finding(
                        "CZ403",
                        file,
                        line,
                        f"variable {name} is not marked sensitive",
                        f"add sensitive = true to {name}, so that plans and logs hide it",
                    )
                )
            if "default" in body:
                found.append(
                    Finding(
                        "CZ403",
                        file,
                        line,
                        f"variable {name} has a default: a secret in the repository",
                        f"remove the default; pass it as TF_VAR_{name} when you apply",
                    )
                )
    for file, label, body in _labelled(module, "provider"):
        for key in PROVIDER_CREDENTIALS:
            if key in body:
                found.append(
                    Finding(
                        "CZ403",
                        file,
                        module.line(file, rf"^\s*{key}\s*="),
                        f"provider {label} sets {key}",
                        "remove it: the provider reads credentials from its environment",
                    )
                )
    for file, entry in module.of("resource"):
        for rtype, named in entry.items():
            for rname, body in named.items() if isinstance(named, dict) else []:
                for key, value in body.items() if isinstance(body, dict) else []:
                    if sensitive_name(key) and isinstance(value, str) and not INTERPOLATED.match(value):
                        found.append(
                            Finding(
                                "CZ403",
                                file,
                                module.line(file, rf"^\s*{key}\s*="),
                                f"{rtype}.{rname} writes {key} as a literal",
                                f"{key} = var.db_password (a sensitive variable)",
                            )
                        )
    return found


def _ports(rule: dict[str, Any]) -> set[int]:
    if str(rule.get("protocol", "tcp")) in {"-1", "all"}:
        return set(CLOSED_PORTS)
    try:
        low, high = int(rule.get("from_port", 0)), int(rule.get("to_port", rule.get("from_port", 0)))
    except (TypeError, ValueError):
        return set()
    return {port for port in CLOSED_PORTS if low <= port <= high}


def _cidrs(rule: dict[str, Any]) -> set[str]:
    values: list[Any] = []
    for key in ("cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"):
        value = rule.get(key)
        values += value if isinstance(value, list) else [value]
    return {str(value) for value in values if value is not None} & OPEN_CIDRS


def open_ports_rule(module: Module) -> list[Finding]:
    """CZ404: no SSH or database port is open to the whole internet (0.0.0.0/0 or ::/0)."""
    rules: list[tuple[str, str, int, dict[str, Any]]] = []  # (file, what, line, rule)
    for file, name, body in _resources(module, "aws_security_group"):
        header = module.line(file, rf'^\s*resource\s+"aws_security_group"\s+"{re.escape(name)}"')
        after = header
        for ingress in body.get("ingress") or []:
            line = module.line(file, r"^\s*ingress\s*\{", after + 1) or header
            after = line
            rules.append((file, f"aws_security_group.{name}", line, ingress))
    for kind in ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule"):
        for file, name, body in _resources(module, kind):
            if kind == "aws_security_group_rule" and body.get("type") != "ingress":
                continue
            rule = dict(body, protocol=body.get("ip_protocol", body.get("protocol", "tcp")))
            line = module.line(file, rf'^\s*resource\s+"{kind}"\s+"{re.escape(name)}"')
            rules.append((file, f"{kind}.{name}", line, rule))
    found = []
    for file, what, line, rule in rules:
        if _cidrs(rule):
            for port in sorted(_ports(rule)):
                found.append(
                    Finding(
                        "CZ404",
                        file,
                        line,
                        f"{what} opens {port}/tcp ({CLOSED_PORTS[port]}) to {sorted(_cidrs(rule))[0]}",
                        "allow it from var.admin_cidr (SSH) or from the app's security group "
                        "(security_groups = [aws_security_group.app.id]) only",
                    )
                )
    return found


def outputs_rule(module: Module) -> list[Finding]:
    """CZ405: the outputs the README names."""
    outputs = {name: (file, body) for file, name, body in _labelled(module, "output")}
    found = [
        Finding("CZ405", "terraform/", 0, f"there is no output {name}", f'add output "{name}" as the README says')
        for name in OUTPUTS
        if name not in outputs
    ]
    found += [
        Finding(
            "CZ405",
            file,
            module.line(file, rf'^\s*output\s+"{re.escape(name)}"'),
            f"output {name} has no value: terraform refuses it",
            f"give it a value, e.g. {OUTPUT_EXAMPLES.get(name, 'value = <an attribute of a resource>')}",
        )
        for name, (file, body) in outputs.items()
        if body.get("value") in (None, "")
    ]
    return found
