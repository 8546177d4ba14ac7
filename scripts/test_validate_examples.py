#!/usr/bin/env python3
"""Proves scripts/validate_examples.py fails on the mistakes it exists to catch.

Each case copies examples/ and docker/ into a temporary tree, breaks one thing
and expects the validator to exit 1 naming it. Run with the examples venv's
python (scripts/test.sh does).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def edit(path, old, new):
    with open(path) as f:
        text = f.read()
    assert old in text, f"{path}: {old!r} not found; update this test"
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def entry_point_overridden(root):
    path = os.path.join(root, "examples/ecs-task-definition.json")
    with open(path) as f:
        task = json.load(f)
    task["containerDefinitions"][0]["entryPoint"] = ["/usr/local/bin/entitled", "--product-code", "prod-abc123", "--"]
    with open(path, "w") as f:
        json.dump(task, f)


CASES = [
    ("the task definition runs a guard the image does not have", entry_point_overridden,
     "names /usr/local/bin/entitled"),
    ("the manifest names a program the image does not have",
     lambda r: edit(os.path.join(r, "examples/eks-deployment.yaml"), '"/app/server"', '"/app/srv"'),
     "names /app/srv"),
    ("the ENTRYPOINT names a key the image does not have",
     lambda r: edit(os.path.join(r, "docker/Dockerfile.paid-app-example"),
                    '"--public-key", "/etc/entitled/key.pem"', '"--public-key", "/etc/entitled/product.pem"'),
     "names /etc/entitled/product.pem"),
    ("the paid app runs as root",
     lambda r: edit(os.path.join(r, "docker/Dockerfile.paid-app-example"), "USER 10001:10001", "USER root"),
     "runs as root"),
    ("a COPY source is missing",
     lambda r: os.remove(os.path.join(r, "tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem")),
     "COPY source tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem"),
    ("the sidecar image puts its binary elsewhere than its ENTRYPOINT",
     lambda r: edit(os.path.join(r, "docker/Dockerfile.entitled-meter"),
                    "COPY ${TARGETARCH}/entitled-meter /entitled-meter",
                    "COPY ${TARGETARCH}/entitled-meter /bin/entitled-meter"),
     "ENTRYPOINT/CMD names /entitled-meter"),
    ("the guard image the paid app is built FROM moves the guard",
     lambda r: edit(os.path.join(r, "docker/Dockerfile.entitled"),
                    "COPY ${TARGETARCH}/entitled /entitled", "COPY ${TARGETARCH}/entitled /bin/entitled"),
     "Dockerfile.paid-app-example: ENTRYPOINT/CMD names /entitled"),
    ("the builder image is not the minimum Rust",
     lambda r: edit(os.path.join(r, "docker/Dockerfile"), "rust:1.94.1-bookworm", "rust:1-bookworm"),
     "pin it to the workspace's rust-version"),
    # The three models the validator checks against: Kubernetes, ECS, IAM.
    ("a Kubernetes field the model does not know",
     lambda r: edit(os.path.join(r, "examples/eks-deployment.yaml"),
                    "serviceAccountName: my-paid-app", "serviceAcountName: my-paid-app"),
     "serviceAcountName"),
    ("an ECS task definition field of the wrong type",
     lambda r: edit(os.path.join(r, "examples/ecs-task-definition.json"), '"essential": true', '"essential": "yes"'),
     "essential"),
    ("an IAM policy statement with no valid Effect",
     lambda r: edit(os.path.join(r, "examples/iam-register-usage-policy.json"), '"Effect": "Allow"', '"Effect": "Permit"'),
     "Effect must be Allow or Deny"),
    ("the Compose example has a key Compose does not know",
     lambda r: edit(os.path.join(r, "examples/emulator-ci/compose.yaml"), "    ports:\n", "    port:\n"),
     "not a valid vendor.compose-spec"),
    ("the Actions example's service has no image",
     lambda r: edit(os.path.join(r, "examples/emulator-ci/github-actions.yml"),
                    "        image: ghcr.io/entitled-rs/entitled-emulator:0.1.0\n", "        imag: x\n"),
     "not a valid vendor.github-workflows"),
    ("an image nobody builds",
     lambda r: edit(os.path.join(r, "examples/ecs-task-definition-init-container.json"),
                    "my-seller/entitled-prod-abc123", "my-seller/entitled"),
     "is not one this repository describes"),
]


def run(root):
    return subprocess.run(
        [sys.executable, os.path.join(root, "scripts/validate_examples.py"), os.path.join(root, "examples")],
        capture_output=True, text=True)


def main():
    failures = 0
    for name, breaks, expected in CASES:
        with tempfile.TemporaryDirectory() as root:
            for d in ("examples", "docker", "scripts", "tests"):
                shutil.copytree(os.path.join(ROOT, d), os.path.join(root, d))
            shutil.copy(os.path.join(ROOT, "Cargo.toml"), root)
            ok = run(root)
            if ok.returncode != 0:
                print(f"FAIL {name}: the unbroken copy does not validate: {ok.stderr}", file=sys.stderr)
                failures += 1
                continue
            breaks(root)
            out = run(root)
            if out.returncode != 1 or expected not in out.stderr:
                print(f"FAIL {name}: expected exit 1 naming {expected!r}, got {out.returncode}: {out.stderr}",
                      file=sys.stderr)
                failures += 1
    print(f"test_validate_examples: {len(CASES) - failures} of {len(CASES)} cases passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
