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
  policies; an IRSA trust policy must condition on :sub and :aud, and an
  Anywhere trust policy (openid-license-manager.amazonaws.com) on :amr naming
  the buyer's account.
- Images against their Dockerfiles: every container of a task definition or
  manifest whose image this repository builds (IMAGES) is run as ECS or
  Kubernetes would run it (entryPoint/command, or command/args, over the
  image's ENTRYPOINT and CMD), and every absolute path on that command line
  that is not under one of the container's mounts (the program, the key
  file) must exist in the Dockerfile's final stage (COPY/ADD destinations,
  WORKDIR, files of the apt packages it installs). The Dockerfiles' own
  ENTRYPOINT/CMD paths and COPY sources must exist too, and an image that
  runs the guard must not run as root.
  A Dockerfile FROM an image built here (BASES) starts with that image's
  files. COPY sources that scripts/images.sh stages from dist/ (STAGED) are
  not in the repository; the build itself fails on a missing one.
- The CI examples (emulator-ci/): the GitHub Actions workflow and the Compose
  file against the schemas check-jsonschema vendors (SchemaStore's
  github-workflow.json, compose-spec.json), and their images as above.
- docker/Dockerfile's builder image is pinned to the workspace's
  rust-version (Cargo.toml), the real minimum.

Exits 1 naming every problem; never skips: a missing package is an error.
"""
import glob
import json
import os
import subprocess
import sys

import botocore.session
import botocore.validate
import kubernetes.client
import yaml

# The build context of the Dockerfiles: the repository root.
CONTEXT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

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
    if is_ci_example(path):
        return check_ci_example(path)
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
    return problems + check_manifest_images(path, docs, CONTEXT)


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
    return problems + check_task_definition_images(path, params, CONTEXT)


# The images these examples name, by repository, and the Dockerfile in this
# repository that builds each. None: an image not built here, whose paths
# cannot be checked.
IMAGES = {
    "my-seller/my-paid-app": "docker/Dockerfile.paid-app-example",
    "my-seller/my-contract-app": "docker/Dockerfile.contract-app-example",
    "my-seller/entitled-prod-abc123": "docker/Dockerfile",
    "my-seller/my-app": None,
    # The metering examples (examples/meter/): the seller's app, and the
    # sidecar image, pushed by the seller to the product's ECR repository.
    "my-seller/my-metered-app": None,
    "my-tests": None,
    "my-seller/entitled-meter": "docker/Dockerfile.entitled-meter",
    # The published images (README "Images", examples/emulator-ci/).
    "entitled-rs/entitled": "docker/Dockerfile.entitled",
    "entitled-rs/entitled-meter": "docker/Dockerfile.entitled-meter",
    "entitled-rs/entitled-emulator": "docker/Dockerfile.entitled-emulator",
}
# Images a Dockerfile here is built FROM, by the last part of their name: the
# final stage then starts with that image's files, entrypoint and user.
BASES = {"entitled": "docker/Dockerfile.entitled"}
# What scripts/images.sh stages into the build context of the Dockerfiles it
# builds, besides copies of repository files (which are checked as usual):
# the release binaries per ${TARGETARCH}, the licence notice, the sidecar's
# journal directory. A missing one fails that build, in the test command.
STAGED = ("${TARGETARCH}/", "THIRD-PARTY-LICENSES.txt", "journal/")
# Files the apt packages installed in a Dockerfile provide (Debian bookworm).
APT_FILES = {"tini": ["/usr/bin/tini"], "ca-certificates": ["/etc/ssl/certs/ca-certificates.crt"]}


def dockerfile_lines(text):
    """Instructions of a Dockerfile: continuations joined, comments dropped."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


def exec_form(rest):
    rest = rest.strip()
    if rest.startswith("["):
        return json.loads(rest)
    return ["/bin/sh", "-c", rest]


class Image:
    """What the final stage of a Dockerfile puts in its image."""

    def __init__(self, path, context):
        self.path, self.files, self.problems = path, set(), []
        self.entrypoint, self.cmd, self.user = [], [], None
        workdir, global_args, seen_from = "/", {}, False
        for line in dockerfile_lines(open(path).read()):
            word, _, rest = line.partition(" ")
            word = word.upper()
            if word == "ARG" and not seen_from:
                name, _, default = rest.strip().partition("=")
                global_args[name] = default
            elif word == "FROM":
                seen_from = True
                self.files, self.entrypoint, self.cmd, self.user, workdir = set(), [], [], None, "/"
                base = self.base(rest.split()[0], global_args, context)
                if base is not None:
                    self.files = set(base.files)
                    self.entrypoint, self.cmd, self.user = base.entrypoint, base.cmd, base.user
            elif word == "WORKDIR":
                workdir = os.path.join(workdir, rest.strip())
                self.files.add(workdir)
            elif word in ("COPY", "ADD"):
                parts = rest.split()
                flags = [p for p in parts if p.startswith("--")]
                args = [p for p in parts if not p.startswith("--")]
                *sources, dest = args
                dest = os.path.join(workdir, dest)
                for src in sources:
                    name = dest + os.path.basename(src) if dest.endswith("/") else dest
                    self.files.add(os.path.normpath(name))
                    staged = src.startswith(STAGED)
                    if not staged and not any(f.startswith("--from") for f in flags) \
                            and not os.path.exists(os.path.join(context, src)):
                        self.problems.append(f"{path}: COPY source {src} is not in the build context")
            elif word == "RUN" and "apt-get install" in rest:
                for package, files in APT_FILES.items():
                    if f" {package} " in f" {rest} ":
                        self.files.update(files)
            elif word == "ENTRYPOINT":
                self.entrypoint, self.cmd = exec_form(rest), []
            elif word == "CMD":
                self.cmd = exec_form(rest)
            elif word == "USER":
                self.user = rest.strip()
        for arg in self.entrypoint + self.cmd:
            if arg.startswith("/") and not self.has(arg):
                self.problems.append(f"{path}: ENTRYPOINT/CMD names {arg}, which the image does not have")
        runs_guard = any(os.path.basename(a) == "entitled" for a in self.entrypoint)
        if runs_guard and self.user is not None and self.user.split(":")[0] in ("root", "0"):
            self.problems.append(f"{path}: runs as root; use a non-root USER")
        if runs_guard and "debian" in open(path).read() and self.user is None:
            self.problems.append(f"{path}: no USER: the image runs as root; add a non-root USER")

    def base(self, ref, args, context):
        """The Image of a FROM this repository builds (BASES), else None."""
        for name, default in args.items():
            ref = ref.replace("${" + name + "}", default).replace("$" + name, default)
        repo = ref.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
        if repo not in BASES:
            return None
        base = Image(os.path.join(context, BASES[repo]), context)
        self.problems.extend(base.problems)
        return base

    def has(self, path):
        # Exact paths only: a WORKDIR or COPY destination says nothing about
        # what else is in that directory.
        return os.path.normpath(path) in self.files


def dockerfile_image(context, problems):
    """Resolves an image repository to (its Dockerfile, the Image it describes), or None."""
    def resolve(repo):
        dockerfile = IMAGES[repo]
        if dockerfile is None:
            return None
        image = Image(os.path.join(context, dockerfile), context)
        problems.extend(p for p in image.problems if p not in problems)
        return dockerfile, image
    return resolve


def container_paths(where, image_ref, argv, mounts, context, problems, resolve=None):
    """Every absolute path on a container's command line, not under one of its
    mounts, must be in its image. `resolve` (by default the Dockerfiles in
    IMAGES) maps a repository to (name, image) or None for an image not built
    here; scripts/test_images.py passes one that looks in the built images."""
    repo = image_ref.split("/", 1)[-1].rsplit(":", 1)[0]
    if repo not in IMAGES:
        problems.append(f"{where}: image {image_ref} is not one this repository describes; add it to IMAGES")
        return
    found = (resolve or dockerfile_image(context, problems))(repo)
    if found is None:
        return
    name, image = found
    for arg in argv(image):
        if not isinstance(arg, str) or not arg.startswith("/"):
            continue
        if any(os.path.normpath(arg).startswith(os.path.normpath(m) + "/") or arg == m for m in mounts):
            continue
        if not image.has(arg):
            problems.append(f"{where}: names {arg}, which {name} does not put in the image")


def check_images(root, resolve):
    """container_paths for every container of every example under root, with `resolve`."""
    problems = []
    for path in sorted(glob.glob(os.path.join(root, "**/ecs-task-definition*.json"), recursive=True)):
        with open(path) as f:
            problems += check_task_definition_images(path, json.load(f), CONTEXT, resolve)
    for path in sorted(glob.glob(os.path.join(root, "**/*.yaml"), recursive=True)):
        if is_ci_example(path):
            continue
        with open(path) as f:
            problems += check_manifest_images(path, [d for d in yaml.safe_load_all(f) if d], CONTEXT, resolve)
    return problems


def check_task_definition_images(path, params, context, resolve=None):
    problems = []
    for c in params.get("containerDefinitions", []):
        mounts = [m["containerPath"] for m in c.get("mountPoints", [])]

        def argv(image, c=c):
            # ECS: entryPoint replaces the image's ENTRYPOINT, command its CMD.
            return c.get("entryPoint", image.entrypoint) + c.get("command", image.cmd)
        container_paths(f"{path} container {c['name']}", c["image"], argv, mounts, context, problems, resolve)
    return problems


def check_manifest_images(path, docs, context, resolve=None):
    problems = []
    for doc in docs:
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("initContainers", []) + spec.get("containers", []):
            mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]

            def argv(image, c=c):
                # Kubernetes: command replaces ENTRYPOINT (and drops CMD), args CMD.
                if "command" in c:
                    return c["command"] + c.get("args", [])
                return image.entrypoint + c.get("args", image.cmd)
            container_paths(f"{path} container {c['name']}", c["image"], argv, mounts, context, problems, resolve)
    return problems


def check_builder_pin(context):
    """docker/Dockerfile builds with the Rust the workspace declares as its minimum."""
    import tomllib
    with open(os.path.join(context, "Cargo.toml"), "rb") as f:
        wanted = tomllib.load(f)["workspace"]["package"]["rust-version"]
    with open(os.path.join(context, "docker/Dockerfile")) as f:
        pins = [w for line in f if line.startswith("FROM") for w in line.split() if w.startswith("rust:")]
    if pins != [f"rust:{wanted}-bookworm"]:
        return [f"docker/Dockerfile: the builder image is {pins}, not rust:{wanted}-bookworm; "
                "pin it to the workspace's rust-version"]
    return []


# The CI examples (examples/emulator-ci/), each held to the schema its tool
# publishes, as vendored (offline) by the check-jsonschema package.
CI_SCHEMAS = {"github-actions.yml": "vendor.github-workflows", "compose.yaml": "vendor.compose-spec"}


def is_ci_example(path):
    return os.path.basename(os.path.dirname(path)) == "emulator-ci"


def check_ci_example(path):
    schema = CI_SCHEMAS.get(os.path.basename(path))
    if schema is None:
        return [f"{path}: no schema for this CI example; add it to CI_SCHEMAS"]
    tool = os.path.join(os.path.dirname(sys.executable), "check-jsonschema")
    out = subprocess.run([tool, "--builtin-schema", schema, path], capture_output=True, text=True)
    problems = [] if out.returncode == 0 else [f"{path}: not a valid {schema}: {out.stdout.strip()} {out.stderr.strip()}"]
    with open(path) as f:
        doc = yaml.safe_load(f)
    if os.path.basename(path) == "compose.yaml":
        services = doc.get("services", {})
    else:
        services = {n: s for job in doc.get("jobs", {}).values() for n, s in job.get("services", {}).items()}
    for name, service in services.items():
        if not isinstance(service, dict) or "image" not in service:
            problems.append(f"{path} service {name}: no image")
            continue

        def argv(image, service=service):
            return image.entrypoint + service.get("command", image.cmd)
        container_paths(f"{path} service {name}", service["image"], argv, [], CONTEXT, problems)
    return problems


# The federated principal of a contract product's role outside AWS (Anywhere): License
# Manager's access tokens, issued for the buyer's licence tokens.
LICENSE_MANAGER_OIDC = "openid-license-manager.amazonaws.com"


def check_anywhere_trust(where, statement):
    """An Anywhere role trusts License Manager's tokens for the buyer's own account only."""
    like = statement.get("Condition", {}).get("ForAnyValue:StringLike", {})
    amr = str(like.get(f"{LICENSE_MANAGER_OIDC}:amr", ""))
    prefix = "aws:license-manager:token-issuer-account-id:"
    account = amr[len(prefix):]
    if not amr.startswith(prefix) or not (len(account) == 12 and account.isdigit()):
        return [f"{where}: needs Condition ForAnyValue:StringLike {LICENSE_MANAGER_OIDC}:amr = "
                f"{prefix}ACCOUNT (the buyer's 12-digit account id)"]
    return []


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
            if s.get("Action") == "sts:AssumeRoleWithWebIdentity" and federated == LICENSE_MANAGER_OIDC:
                problems += check_anywhere_trust(where, s)
            elif s.get("Action") == "sts:AssumeRoleWithWebIdentity":
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
        ("emulator-ci/*.yml", check_ci_example),
    ]
    problems, checked = [], 0
    for pattern, check in checks:
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            problems += check(path)
            checked += 1
    if checked == 0:
        problems.append(f"no examples found under {root}")
    problems += check_builder_pin(CONTEXT)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"validate_examples: {checked} files valid")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
