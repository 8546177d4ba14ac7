#!/usr/bin/env python3
"""Validates the deployment examples offline, as the services would read them.

    validate_examples.py [EXAMPLES_DIR]

- Kubernetes manifests (*.yaml): every document is deserialised into the
  `kubernetes` client's model for its kind (required fields, types), and
  serialising the model back must give the document unchanged, so a misspelt
  or unknown field fails too.
- ECS task definitions (ecs-task-definition*.json): validated against the
  botocore model of ECS RegisterTaskDefinition.
- IAM policies (iam-*.json): the grammar IAM requires: Version 2012-10-17, a
  non-empty Statement list, each with Effect Allow|Deny, Action (or
  NotAction), and Resource for identity policies or Principal for trust
  policies; an IRSA trust policy must condition on :sub and :aud.

Exits 1 naming every problem; never skips: a missing package is an error.
"""
import glob
import json
import os
import sys

import botocore.session
import botocore.validate
import kubernetes.client
import yaml

KINDS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("apps/v1", "Deployment"): "V1Deployment",
}


def deserialize(data, model):
    client = kubernetes.client.ApiClient()
    # The client's own deserialiser, as used on API server answers; it checks
    # required fields and types, and drops what the model does not know.
    return client._ApiClient__deserialize(data, model)


def check_manifest(path):
    problems = []
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if not docs:
        problems.append(f"{path}: no Kubernetes documents")
    client = kubernetes.client.ApiClient()
    for i, doc in enumerate(docs):
        where = f"{path} document {i + 1} ({doc.get('kind')})"
        model = KINDS.get((doc.get("apiVersion"), doc.get("kind")))
        if model is None:
            problems.append(f"{where}: unknown apiVersion/kind {doc.get('apiVersion')}/{doc.get('kind')}")
            continue
        try:
            obj = deserialize(doc, model)
        except (ValueError, TypeError) as e:
            problems.append(f"{where}: {e}")
            continue
        back = client.sanitize_for_serialization(obj)
        if back != doc:
            problems.append(f"{where}: fields the {model} model does not know, or of the wrong type: {diff(doc, back)}")
    return problems


def diff(original, back, prefix=""):
    """The first path where `back` (the model's view) differs from `original`."""
    if isinstance(original, dict) and isinstance(back, dict):
        for k in original:
            if k not in back:
                return f"{prefix}.{k} (unknown field)"
            d = diff(original[k], back[k], f"{prefix}.{k}")
            if d:
                return d
        return None
    if isinstance(original, list) and isinstance(back, list):
        for i, (a, b) in enumerate(zip(original, back)):
            d = diff(a, b, f"{prefix}[{i}]")
            if d:
                return d
        return None if len(original) == len(back) else f"{prefix} (length)"
    return None if original == back else f"{prefix} ({original!r} became {back!r})"


def check_task_definition(path):
    with open(path) as f:
        params = json.load(f)
    shape = (botocore.session.get_session().get_service_model("ecs")
             .operation_model("RegisterTaskDefinition").input_shape)
    report = botocore.validate.ParamValidator().validate(params, shape)
    problems = [f"{path}: {report.generate_report()}"] if report.has_errors() else []
    names = {c["name"] for c in params.get("containerDefinitions", [])}
    for c in params.get("containerDefinitions", []):
        for dep in c.get("dependsOn", []):
            if dep["containerName"] not in names:
                problems.append(f"{path}: {c['name']} depends on unknown container {dep['containerName']}")
    return problems


def check_policy(path):
    with open(path) as f:
        policy = json.load(f)
    problems = []
    if policy.get("Version") != "2012-10-17":
        problems.append(f"{path}: Version must be 2012-10-17")
    statements = policy.get("Statement")
    if not isinstance(statements, list) or not statements:
        return problems + [f"{path}: Statement must be a non-empty list"]
    trust = any("Principal" in s for s in statements)
    for i, s in enumerate(statements):
        where = f"{path} Statement[{i}]"
        if s.get("Effect") not in ("Allow", "Deny"):
            problems.append(f"{where}: Effect must be Allow or Deny")
        if ("Action" in s) == ("NotAction" in s):
            problems.append(f"{where}: exactly one of Action and NotAction")
        if trust:
            if "Principal" not in s:
                problems.append(f"{where}: a trust policy statement needs a Principal")
            federated = s.get("Principal", {}).get("Federated", "")
            if s.get("Action") == "sts:AssumeRoleWithWebIdentity":
                if ":oidc-provider/" not in federated:
                    problems.append(f"{where}: Principal.Federated must be the cluster's OIDC provider ARN")
                keys = s.get("Condition", {}).get("StringEquals", {})
                issuer = federated.split(":oidc-provider/", 1)[-1]
                if keys.get(f"{issuer}:aud") != "sts.amazonaws.com":
                    problems.append(f"{where}: needs Condition StringEquals {issuer}:aud = sts.amazonaws.com")
                if not str(keys.get(f"{issuer}:sub", "")).startswith("system:serviceaccount:"):
                    problems.append(f"{where}: needs Condition StringEquals {issuer}:sub = system:serviceaccount:NS:NAME")
        elif ("Resource" in s) == ("NotResource" in s):
            problems.append(f"{where}: exactly one of Resource and NotResource")
        for key in s:
            if key not in ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                           "Resource", "NotResource", "Condition"):
                problems.append(f"{where}: unknown element {key}")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples")
    checks = [
        ("**/*.yaml", check_manifest),
        ("**/ecs-task-definition*.json", check_task_definition),
        ("**/iam-*.json", check_policy),
    ]
    problems, checked = [], 0
    for pattern, check in checks:
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            problems += check(path)
            checked += 1
    if checked == 0:
        problems.append(f"no examples found under {root}")
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"validate_examples: {checked} files valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
