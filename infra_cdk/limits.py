"""AWS's hard limits, measured on a synthesized cloud assembly offline, so a stack that
CloudFormation, Lambda or IAM would refuse fails the tests instead of a deployment.

    python -m infra_cdk.limits [cdk.out]     prints every figure against its limit

Sources: CloudFormation quotas (500 resources, 200 outputs and parameters, a 1 MB template
uploaded through S3, as the CDK CLI does past 50 KiB), Lambda quotas (250 MB unzipped for a
function and its layers, 5 layers, 4 KB of environment variables) and IAM quotas (10,240
characters of inline policy per role, 6,144 per managed policy, 2,048 per trust policy, all
counted without whitespace).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra_cdk.constants import ROOT, STACK_NAME

MB = 1024 * 1024
# How long an intrinsic (a Ref, a GetAtt, an imported value) is taken to resolve to: longer
# than the ARNs and names this stack's references resolve to (about 90 characters).
RESOLVED_LENGTH = 128


@dataclass(frozen=True)
class Figure:
    name: str
    value: int
    limit: int
    unit: str

    @property
    def within(self) -> bool:
        return self.value <= self.limit

    def __str__(self) -> str:
        share = self.value / self.limit
        return f"{self.name}: {self.value:,} of {self.limit:,} {self.unit} ({share:.0%})"


def resolved(value: Any) -> str:
    """A template value as text once deployed, intrinsics at ``RESOLVED_LENGTH``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return json.dumps([resolved(v) for v in value])
    if isinstance(value, dict) and len(value) == 1:
        (key, argument), *_ = value.items()
        if key == "Fn::Join":
            separator, parts = argument
            return str(separator).join(resolved(p) for p in parts)
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            pieces = text.split("${")
            return pieces[0] + "".join(
                "x" * RESOLVED_LENGTH + piece.partition("}")[2] for piece in pieces[1:]
            )
        if key == "Ref" or key.startswith("Fn::"):
            return "x" * RESOLVED_LENGTH
    if isinstance(value, dict):
        return json.dumps({k: resolved(v) for k, v in value.items()})
    return json.dumps(value)


def policy_characters(document: Any) -> int:
    """IAM's count: the policy JSON without whitespace, intrinsics resolved."""

    def render(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            key = next(iter(value))
            if key == "Ref" or key.startswith("Fn::"):
                return resolved(value)
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v) for v in value]
        return value

    text = json.dumps(render(document), separators=(",", ":"))
    return sum(1 for c in text if not c.isspace())


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@dataclass
class Assembly:
    directory: Path
    template: dict[str, Any]

    @classmethod
    def read(cls, directory: Path) -> Assembly:
        template = json.loads((directory / f"{STACK_NAME}.template.json").read_text())
        return cls(directory, template)

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def asset_bytes(self, code: dict[str, Any]) -> int:
        """The unzipped size of a function's or layer's code asset (its S3Key is the hash)."""
        key = code.get("S3Key")
        if not isinstance(key, str):
            return len(code.get("ZipFile", ""))
        return directory_bytes(self.directory / f"asset.{key.removesuffix('.zip')}")


def template_figures(assembly: Assembly) -> Iterator[Figure]:
    template = assembly.template
    path = assembly.directory / f"{STACK_NAME}.template.json"
    yield Figure("CloudFormation resources", len(template["Resources"]), 500, "resources")
    yield Figure("CloudFormation template", path.stat().st_size, 1_000_000, "bytes")
    yield Figure("CloudFormation outputs", len(template.get("Outputs", {})), 200, "outputs")
    yield Figure("CloudFormation parameters", len(template.get("Parameters", {})), 200, "params")


def function_figures(assembly: Assembly) -> Iterator[Figure]:
    layers = {
        logical_id: assembly.asset_bytes(r["Properties"]["Content"])
        for logical_id, r in assembly.resources("AWS::Lambda::LayerVersion").items()
    }
    for logical_id, resource in assembly.resources("AWS::Lambda::Function").items():
        props = resource["Properties"]
        refs = [layer["Ref"] for layer in props.get("Layers", []) if "Ref" in layer]
        unzipped = assembly.asset_bytes(props["Code"]) + sum(layers[r] for r in refs)
        yield Figure(f"{logical_id} unzipped with its layers", unzipped, 250 * MB, "bytes")
        yield Figure(f"{logical_id} layers", len(props.get("Layers", [])), 5, "layers")
        variables = (props.get("Environment") or {}).get("Variables") or {}
        size = sum(len(k) + len(resolved(v)) for k, v in variables.items())
        yield Figure(f"{logical_id} environment", size, 4096, "bytes")


def iam_figures(assembly: Assembly) -> Iterator[Figure]:
    inline: dict[str, int] = {}
    for logical_id, role in assembly.resources("AWS::IAM::Role").items():
        props = role["Properties"]
        trust = policy_characters(props["AssumeRolePolicyDocument"])
        yield Figure(f"{logical_id} trust policy", trust, 2048, "characters")
        inline[logical_id] = sum(
            policy_characters(p["PolicyDocument"]) for p in props.get("Policies", [])
        )
    for policy in assembly.resources("AWS::IAM::Policy").values():
        size = policy_characters(policy["Properties"]["PolicyDocument"])
        for role in policy["Properties"].get("Roles", []):
            if isinstance(role, dict) and role.get("Ref") in inline:
                inline[role["Ref"]] += size
    for logical_id, size in inline.items():
        yield Figure(f"{logical_id} inline policies", size, 10_240, "characters")
    for logical_id, managed in assembly.resources("AWS::IAM::ManagedPolicy").items():
        size = policy_characters(managed["Properties"]["PolicyDocument"])
        yield Figure(f"{logical_id} managed policy", size, 6144, "characters")


def figures(directory: Path) -> list[Figure]:
    assembly = Assembly.read(directory)
    return [
        *template_figures(assembly),
        *function_figures(assembly),
        *iam_figures(assembly),
    ]


def main(args: list[str]) -> int:
    measured = figures(Path(args[0]) if args else ROOT / "cdk.out")
    for figure in measured:
        print(("  " if figure.within else "! ") + str(figure))
    return 0 if all(f.within for f in measured) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
