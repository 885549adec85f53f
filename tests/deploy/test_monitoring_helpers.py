"""Shared by the monitoring tests: the generator module, the template, a small CloudFormation resolver."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import yaml
from deploy_helpers import DEPLOY

MONITORING = DEPLOY / "monitoring"
TEMPLATE = MONITORING / "feedguard-monitoring.yaml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
FULL = {
    "Environment": "prod",
    "AlertEmail": "data-oncall@example.com",
    "MskClusterName": "feedguard-msk",
    "MwaaEnvironmentName": "feedguard-airflow",
    "ClusterName": "feedguard-foodnow",
    "ServiceName": "foodnow-consumer",
    "BatchJobQueue": "feedguard",
    "BatchComputeEnvironment": "feedguard-ec2",
    "CollectorImage": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/feedguard:0.1.0",
    "CollectorSubnets": "subnet-0123456789abcdef0",
    "CollectorSecurityGroups": "sg-0123456789abcdef0",
}
# Nothing optional configured: no MSK, MWAA, Fargate service or collector.
BARE = {"Environment": "dev", "BatchJobQueue": "", "CollectorImage": ""}


def load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


generator = load_module("feedguard_monitoring_generate", MONITORING / "generate.py")


def template() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return data


class Resolver:
    """Resolve Ref / Fn::Sub / Fn::Join / Fn::If / conditions against parameters (and deployed ids)."""

    def __init__(self, tpl: dict[str, Any], params: dict[str, str], physical: dict[str, str] | None = None):
        defaults = {k: str(v.get("Default", "")) for k, v in tpl["Parameters"].items()}
        self.values = {**defaults, **params, **(physical or {}), "AWS::Region": REGION,
                       "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}  # fmt: skip
        self.conditions: dict[str, bool] = {}
        for name, expr in tpl.get("Conditions", {}).items():
            self.conditions[name] = self.truth(expr)

    def truth(self, expr: Any) -> bool:
        if "Fn::Equals" in expr:
            left, right = (self.resolve(x) for x in expr["Fn::Equals"])
            return bool(left == right)
        if "Fn::Not" in expr:
            return not self.truth(expr["Fn::Not"][0])
        if "Fn::And" in expr:
            return all(self.truth(x) for x in expr["Fn::And"])
        if "Condition" in expr:
            return self.conditions[expr["Condition"]]
        raise AssertionError(f"unsupported condition {expr}")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                return self.values[value["Ref"]]
            if set(value) == {"Fn::Sub"}:
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self.values[m.group(1)], value["Fn::Sub"])
            if set(value) == {"Fn::Join"}:
                sep, parts = value["Fn::Join"]
                return sep.join(str(self.resolve(p)) for p in parts)
            if set(value) == {"Fn::If"}:
                name, yes, no = value["Fn::If"]
                return self.resolve(yes if self.conditions[name] else no)
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def active(self, resource: dict[str, Any]) -> bool:
        return "Condition" not in resource or self.conditions[resource["Condition"]]

    def active_conditions(self) -> set[str]:
        return {name for name, on in self.conditions.items() if on}


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for the moto server, with fake credentials (never a real account)."""
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # fmt: skip
