#!/usr/bin/env python3
"""Runs the images scripts/images.sh built, with buildah, against the emulator image.

    test_images.py

Run with the examples venv's python (boto3, PyJWT, PyYAML), as root, after
scripts/release.sh and scripts/images.sh (scripts/test.sh does all of it).
Each image is run with `buildah run --isolation chroot`, which shares the
host's network: the emulator image listens on 0.0.0.0:8080 as it does by
default, and everything talks to it on 127.0.0.1:8080.

- the emulator image (from its OCI archive) answers /_emulator/health and
  boto3's RegisterUsage with a PS256 token that PyJWT verifies;
- the guard image's binary passes a check and execs (itself, with --version);
- the paid-app example image, run as its ENTRYPOINT and CMD, checks and
  starts its app as user 10001; a denied product stops with 77;
- the sidecar image meters two dimensions and the emulator's totals match;
- every image, both architectures: entrypoint, user, OCI labels, exposed
  port and platform from `buildah inspect`; its files, exactly (so no shell);
  its binary's architecture (`file`); the archive's index names exactly
  these per-architecture images; the guard image is at most the guard plus
  64 KiB;
- the README's GitHub Actions and Compose examples (examples/emulator-ci/)
  run against the emulator image as those tools would start it;
- every absolute path an example's container runs exists in the built image
  it names.

A missing prerequisite fails, naming the command that provides it. Prints
one line per test and closes with `N passed, N failed`.
"""
import gzip
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import traceback
import urllib.request

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import validate_examples  # noqa: E402 (the path above is where it lives)

TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
STORE = os.path.join(TARGET, "images", "store")
IMAGES = ["entitled", "entitled-meter", "entitled-emulator"]
ARCHES = {"amd64": "x86-64", "arm64": "ARM aarch64"}
HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[os.uname().machine]
PAID_APP = "localhost/paid-app-example:latest"
NONROOT = "65532:65532"
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
PRIVATE_KEY = "TEST-ONLY-product-key-v1-rsa3072.private.pem"
PUBLIC_KEY = "TEST-ONLY-product-key-v1-rsa3072.public.pem"
PRODUCT = "demo-product"  # the paid-app example's, compiled into its app
ENDPOINT = "http://127.0.0.1:8080"
# Only loopback, and never the instance metadata service.
AWS_ENV = {
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_REGION": "us-east-1",
    "AWS_ENDPOINT_URL_MARKETPLACE_METERING": ENDPOINT,
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret-access-key",
}
START_TIMEOUT = 60


class Missing(Exception):
    """A prerequisite is missing; the message names the command that provides it."""


def version():
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        return tomllib.load(f)["workspace"]["package"]["version"]


VERSION = version()


def archive(image):
    return os.path.join(ROOT, "dist", "images", f"{image}-{VERSION}.oci.tar")


def bah(*args, check=True, **kw):
    cmd = ["buildah", "--root", f"{STORE}/root", "--runroot", f"{STORE}/run", "--storage-driver", "vfs", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {out.returncode}: {out.stderr.strip()}")
    return out


def prerequisites():
    if shutil.which("buildah") is None:
        raise Missing("buildah is missing: apt-get update && apt-get install -y buildah")
    if os.geteuid() != 0:
        raise Missing("buildah run needs root: run scripts/test.sh as root")
    for image in IMAGES:
        if not os.path.exists(archive(image)):
            raise Missing(f"{archive(image)} is missing: run scripts/release.sh && scripts/images.sh")
    if bah("inspect", "--type", "image", PAID_APP, check=False).returncode != 0:
        raise Missing(f"{PAID_APP} is not in {STORE}: run scripts/images.sh")


def inspect(image):
    return json.loads(bah("inspect", "--type", "image", image).stdout)


class Container:
    """A working container from an image; removed on exit."""

    def __init__(self, image):
        self.image = image

    def __enter__(self):
        self.name = bah("from", "--pull-never", "--quiet", self.image).stdout.strip()
        return self

    def __exit__(self, *exc):
        bah("rm", self.name, check=False)

    def command(self, argv, env=None, volumes=()):
        """The `buildah run` command line running argv in this container."""
        cmd = ["buildah", "--root", f"{STORE}/root", "--runroot", f"{STORE}/run", "--storage-driver", "vfs",
               "run", "--isolation", "chroot"]
        for k, v in (env or {}).items():
            cmd += ["--env", f"{k}={v}"]
        for v in volumes:
            cmd += ["--volume", v]
        return cmd + [self.name, "--", *argv]

    def run(self, argv, env=None, volumes=(), timeout=120):
        return subprocess.run(self.command(argv, env, volumes), capture_output=True, text=True,
                              timeout=timeout, env=host_env())

    def start(self, argv, env=None, volumes=()):
        # Its own process group, so stop() reaches buildah and what it runs.
        return subprocess.Popen(self.command(argv, env, volumes), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True, env=host_env())

    def rootfs(self):
        return bah("mount", self.name).stdout.strip()


def host_env():
    """buildah's own environment: hermetic, no proxies or AWS settings of the caller."""
    return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}


def configured_argv(config, args=None):
    """What a runtime runs: ENTRYPOINT, then CMD or the given arguments."""
    return (config.get("Entrypoint") or []) + (config.get("Cmd") or [] if args is None else args)


def read_listening(proc, what):
    """The address from the first stdout line, `listening on URL`."""
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        stop(proc)
        raise AssertionError(f"{what} did not start: stdout {line!r}, stderr {proc.stderr.read()!r}")
    return line.split(" ", 2)[2].strip()


def descendants(pid):
    """The process ids below pid, from /proc's children lists (one per
    thread: buildah is multi-threaded, and any thread may have forked)."""
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        children = []
        try:
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    children += [int(c) for c in f.read().split()]
        except OSError:
            pass
        found += children
        queue += children
    return found


def argv0(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode()
    except OSError:
        return None


def stop(proc, program=None, sig=signal.SIGTERM):
    """Signals `program`, the process buildah runs in the container (by its
    id, found below proc), or else proc's process group; returns the exit
    code and stderr. Signalling buildah itself makes it kill the program."""
    targets = [pid for pid in descendants(proc.pid) if program and argv0(pid) == program]
    try:
        if targets:
            for pid in targets:
                os.kill(pid, sig)
        else:
            os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    return proc.returncode, err


def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=body.encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def port_free(port):
    import socket
    with socket.socket() as s:
        # As the emulator binds: a connection in TIME_WAIT does not hold the port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


class Emulator:
    """The emulator image, from its OCI archive, as a runtime would start it:
    its ENTRYPOINT with `args` after it, on the host's network."""

    def __init__(self, args):
        self.args = args

    def __enter__(self):
        if not port_free(8080):
            raise Missing("port 8080 is in use on this machine, and the emulator image listens there by default: "
                          "stop what holds it (ss -ltnp 'sport = :8080')")
        self.container = Container(f"oci-archive:{archive('entitled-emulator')}").__enter__()
        config = json.loads(bah("inspect", self.container.name).stdout)["OCIv1"]["config"]
        self.proc = self.container.start(configured_argv(config, self.args),
                                         volumes=[f"{FIXTURES}:/fixtures:ro"])
        self.url = read_listening(self.proc, "the emulator image")
        return self

    def __exit__(self, *exc):
        code, err = stop(self.proc, "/entitled-emulator")
        self.container.__exit__()
        if exc[0] is None and code != 0:
            raise AssertionError(f"the emulator image exited {code} on SIGTERM: {err}")


def product_args():
    # The paid-app example verifies with the TEST-ONLY key: sign with its pair.
    return ["--product", PRODUCT, "--key-file", f"/fixtures/{PRIVATE_KEY}"]


# --- the tests --------------------------------------------------------------

def test_emulator_image_answers_boto3_from_outside(emu):
    assert emu.url == "http://0.0.0.0:8080", f"the image's default address is {emu.url}, not 0.0.0.0:8080"
    status, body = http("GET", f"{ENDPOINT}/_emulator/health")
    assert (status, body) == (200, "ok\n"), (status, body)
    import boto3
    import jwt
    client = boto3.client("meteringmarketplace", endpoint_url=ENDPOINT, region_name="us-east-1",
                          aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"])
    nonce = secrets.token_hex(16)
    answer = client.register_usage(ProductCode=PRODUCT, PublicKeyVersion=1, Nonce=nonce)
    with open(os.path.join(FIXTURES, PUBLIC_KEY), "rb") as f:
        key = f.read()
    status, served = http("GET", f"{ENDPOINT}/_emulator/public-key?product={PRODUCT}")
    assert status == 200 and served.encode().strip() == key.strip(), "the served key is not the --key-file's pair"
    claims = jwt.decode(answer["Signature"], key, algorithms=["PS256"], options={"verify_iat": False})
    assert (claims["productCode"], claims["nonce"], claims["publicKeyVersion"]) == (PRODUCT, nonce, 1), claims
    # A token from another key must not verify: the check above can fail.
    with open(os.path.join(FIXTURES, "TEST-ONLY-attacker-key-rsa3072.public.pem"), "rb") as f:
        other = f.read()
    try:
        jwt.decode(answer["Signature"], other, algorithms=["PS256"], options={"verify_iat": False})
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("the token verified with a foreign key")


def test_guard_image_checks_and_execs(emu):
    with Container(f"oci-archive:{archive('entitled')}") as c:
        config = json.loads(bah("inspect", c.name).stdout)["OCIv1"]["config"]
        # The guard as its ENTRYPOINT, execing itself: the only program in the image.
        argv = configured_argv(config, ["--product-code", PRODUCT, "--public-key", f"/fixtures/{PUBLIC_KEY}",
                                        "--", "/entitled", "--version"])
        out = c.run(argv, env=AWS_ENV, volumes=[f"{FIXTURES}:/fixtures:ro"])
        assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
        assert out.stdout.strip() == f"entitled {VERSION}", out.stdout
        calls = json.loads(http("GET", f"{ENDPOINT}/_emulator/calls")[1])
        assert any(c["product_code"] == PRODUCT and c["operation"] == "RegisterUsage" for c in calls), calls


def test_paid_app_image_starts_its_app_as_10001_and_a_denied_product_stops_with_77(emu):
    config = inspect(PAID_APP)["OCIv1"]["config"]
    assert config["User"] == "10001:10001", config["User"]
    with Container(PAID_APP) as c:
        out = c.run(configured_argv(config), env=AWS_ENV)
        assert out.returncode == 0, f"exit {out.returncode}: {out.stderr}"
        assert out.stdout.startswith(f"hand-off verified: product {PRODUCT}, key version 1"), out.stdout
        assert out.stdout.rstrip().endswith("user 10001)"), out.stdout
        fault = {"target": PRODUCT, "fault": {"kind": "error", "code": "CustomerNotEntitledException"}, "times": 1}
        assert http("POST", f"{ENDPOINT}/_emulator/faults", json.dumps(fault))[0] in (200, 201, 204)
        out = c.run(configured_argv(config), env=AWS_ENV)
        assert out.returncode == 77, f"exit {out.returncode}: {out.stdout} {out.stderr}"
        assert "hand-off verified" not in out.stdout, out.stdout
        assert "CustomerNotEntitled" in out.stderr or "not entitled" in out.stderr.lower(), out.stderr


def test_sidecar_image_meters_two_dimensions(emu):
    product = "prod-image-meter"
    with Container(f"oci-archive:{archive('entitled-meter')}") as c:
        config = json.loads(bah("inspect", c.name).stdout)["OCIv1"]["config"]
        # The journal in the image's own directory, owned by the sidecar's user.
        proc = c.start(configured_argv(config, ["--product-code", product, "--dimension", "users",
                                                "--dimension", "gb_scanned", "--journal", "/var/lib/entitled-meter",
                                                "--listen", "127.0.0.1:0"]), env=AWS_ENV)
        try:
            url = read_listening(proc, "the sidecar image")
            body = json.dumps([{"dimension": "users", "quantity": 3}, {"dimension": "gb_scanned", "quantity": 40}])
            status, text = http("POST", f"{url}/v1/usage", body)
            assert (status, text.strip()) == (202, '{"accepted":2}'), (status, text)
            status, text = http("GET", f"{url}/v1/status")
            assert status == 200 and json.loads(text)["entitled"] is True, text
        finally:
            code, err = stop(proc, "/entitled-meter")
        assert code == 0, f"the sidecar exited {code} on SIGTERM: {err}"
    totals = sorted((u["dimension"], u["quantity"]) for u in json.loads(http("GET", f"{ENDPOINT}/_emulator/usage")[1])
                    if u["product_code"] == product)
    assert totals == [("gb_scanned", 40), ("users", 3)], totals


NOTICE = "THIRD-PARTY-LICENSES.txt"
EXPECTED = {
    # image: (entrypoint, exposed ports, files besides the binary and its SBOM)
    "entitled": (["/entitled"], None, []),
    "entitled-meter": (["/entitled-meter"], {"9464/tcp": {}},
                       [f"usr/share/doc/entitled-meter/{NOTICE}", "var/lib/entitled-meter/"]),
    "entitled-emulator": (["/entitled-emulator", "--listen", "0.0.0.0:8080"], {"8080/tcp": {}},
                          [f"usr/share/doc/entitled-emulator/{NOTICE}"]),
}
LABELS = ["source", "revision", "version", "licenses", "title", "description"]


def files_of(rootfs):
    """Every path in a root filesystem, directories with a trailing slash."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(rootfs):
        rel = os.path.relpath(dirpath, rootfs)
        for d in dirnames:
            found.add(os.path.normpath(os.path.join(rel, d)) + "/")
        for f in filenames:
            found.add(os.path.normpath(os.path.join(rel, f)))
    return found


def parents(paths):
    out = set()
    for p in paths:
        parts = p.rstrip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/".join(parts[:i]) + "/")
    return out


def test_image_configuration_both_architectures(_emu):
    revision = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    for image in IMAGES:
        entrypoint, ports, extra = EXPECTED[image]
        index = archive_index(image)
        for arch, file_arch in ARCHES.items():
            ref = f"localhost/{image}:{VERSION}-{arch}"
            data = inspect(ref)
            config, oci = data["OCIv1"]["config"], data["OCIv1"]
            where = f"{image} linux/{arch}"
            assert (oci["os"], oci["architecture"]) == ("linux", arch), f"{where}: {oci['os']}/{oci['architecture']}"
            assert config.get("Entrypoint") == entrypoint, f"{where}: entrypoint {config.get('Entrypoint')}"
            assert config.get("User") == NONROOT, f"{where}: user {config.get('User')}"
            assert config.get("ExposedPorts") == ports, f"{where}: ports {config.get('ExposedPorts')}"
            labels = config.get("Labels") or {}
            for label in LABELS:
                assert labels.get(f"org.opencontainers.image.{label}"), f"{where}: no {label} label: {labels}"
            assert labels["org.opencontainers.image.title"] == image, labels
            assert labels["org.opencontainers.image.version"] == VERSION, labels
            assert labels["org.opencontainers.image.revision"] == revision, labels
            assert labels["org.opencontainers.image.licenses"] == "Apache-2.0", labels
            # The archive's index holds this image for this platform: the same
            # config (its manifest differs only in the layers' compression).
            digest = json.loads(data["Manifest"])["config"]["digest"]
            assert index.get(arch) == digest, f"{where}: the archive's config is {index.get(arch)}, the store's {digest}"
            with Container(ref) as c:
                rootfs = c.rootfs()
                docs = f"usr/share/doc/{image}/"
                wanted = {image, f"{docs}{image}.cdx.json", *extra}
                wanted |= parents(wanted)
                found = files_of(rootfs)
                assert found == wanted, f"{where}: unexpected {sorted(found - wanted)}, missing {sorted(wanted - found)}"
                described = subprocess.run(["file", "-b", os.path.join(rootfs, image)], capture_output=True,
                                           text=True).stdout
                assert file_arch in described and "statically linked" in described, f"{where}: {described}"
                bah("umount", c.name)
        assert set(index) == set(ARCHES), f"{image}: the archive's platforms are {sorted(index)}"
    binary = os.path.getsize(os.path.join(ROOT, "dist", f"entitled-{VERSION}-x86_64-linux"))
    size = image_size("entitled", "amd64")
    assert size <= binary + 64 * 1024, f"the guard image is {size} bytes, over the guard ({binary}) plus 64 KiB"


def archive_manifests(image):
    """{arch: manifest} of the image index in the image's OCI archive, and a blob reader."""
    t = tarfile.open(archive(image))

    def blob(digest):
        return t.extractfile("./blobs/sha256/" + digest.split(":")[1]).read()
    top = json.load(t.extractfile("./index.json"))
    index = json.loads(blob(top["manifests"][0]["digest"]))
    return {m["platform"]["architecture"]: json.loads(blob(m["digest"])) for m in index["manifests"]}, blob, t


def archive_index(image):
    """{arch: config digest} of the images in the image's OCI archive."""
    manifests, _, t = archive_manifests(image)
    t.close()
    return {arch: m["config"]["digest"] for arch, m in manifests.items()}


def image_size(image, arch):
    """The image as `docker images` counts it: its layers, uncompressed."""
    manifests, blob, t = archive_manifests(image)
    with t:
        return sum(len(gzip.decompress(blob(layer["digest"])))
                   if layer["mediaType"].endswith("gzip") else len(blob(layer["digest"]))
                   for layer in manifests[arch]["layers"])


def test_ci_examples_run_against_the_emulator_image(_emu):
    """examples/emulator-ci/: the Actions job's steps, and Compose's command."""
    import yaml
    ci = os.path.join(ROOT, "examples", "emulator-ci")
    with open(os.path.join(ci, "github-actions.yml")) as f:
        workflow = yaml.safe_load(f)
    (job,) = workflow["jobs"].values()
    (service,) = job["services"].values()
    assert service["image"].rsplit(":", 1)[0].endswith("/entitled-emulator"), service["image"]
    assert service["ports"] == ["8080:8080"], service["ports"]
    steps = [s["run"] for s in job["steps"] if "run" in s]
    assert steps, "no run steps"
    venv_bin = os.path.dirname(sys.executable)
    env = {"PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin", "HOME": tempfile.gettempdir(),
           **{k: str(v) for k, v in job["env"].items()}}
    assert env.get("AWS_EC2_METADATA_DISABLED") == "true", "the job must disable instance metadata"
    # GitHub Actions services take no command: the image's defaults, as they are.
    with Emulator([]), tempfile.TemporaryDirectory() as work:
        for run in steps:
            out = subprocess.run(["bash", "-eo", "pipefail", "-c", run], cwd=work, env=env, capture_output=True,
                                 text=True, timeout=120)
            assert out.returncode == 0, f"step {run!r} exited {out.returncode}: {out.stdout} {out.stderr}"
    with open(os.path.join(ci, "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    emulator = next(s for s in compose["services"].values() if s["image"].rsplit(":", 1)[0].endswith("/entitled-emulator"))
    with Emulator(emulator.get("command", [])) as emu:
        assert emu.url == "http://0.0.0.0:8080", emu.url
        assert http("GET", f"{ENDPOINT}/_emulator/health") == (200, "ok\n")


# The images the examples name, by repository, and the image built here that
# each is a copy of. docker/Dockerfile's product-bound guard is not built here.
BUILT = {
    "my-seller/my-paid-app": PAID_APP,
    "my-seller/entitled-meter": f"localhost/entitled-meter:{VERSION}-{HOST_ARCH}",
    "entitled-rs/entitled": f"localhost/entitled:{VERSION}-{HOST_ARCH}",
    "entitled-rs/entitled-meter": f"localhost/entitled-meter:{VERSION}-{HOST_ARCH}",
    "entitled-rs/entitled-emulator": f"localhost/entitled-emulator:{VERSION}-{HOST_ARCH}",
}


class BuiltImage:
    """A built image as validate_examples sees a Dockerfile: entrypoint, cmd, has(path)."""

    def __init__(self, ref, rootfs):
        config = inspect(ref)["OCIv1"]["config"]
        self.entrypoint, self.cmd = config.get("Entrypoint") or [], config.get("Cmd") or []
        self.rootfs = rootfs

    def has(self, path):
        return os.path.lexists(os.path.join(self.rootfs, path.lstrip("/")))


def test_examples_name_paths_their_built_images_have(_emu):
    containers, checked = {}, []

    def resolve(repo):
        if repo not in BUILT:
            return None
        if repo not in containers:
            c = Container(BUILT[repo]).__enter__()
            containers[repo] = (c, BuiltImage(BUILT[repo], c.rootfs()))
        checked.append(repo)
        return BUILT[repo], containers[repo][1]

    problems = []
    try:
        problems = validate_examples.check_images(os.path.join(ROOT, "examples"), resolve)
    finally:
        for c, _ in containers.values():
            bah("umount", c.name, check=False)
            c.__exit__()
    assert not problems, "\n".join(problems)
    for repo in ("my-seller/my-paid-app", "my-seller/entitled-meter"):
        assert repo in checked, f"no example names {repo}: the check ran on nothing"


def run(fn, emu):
    """Runs one test; prints PASS or FAIL with the traceback; True when it passed."""
    started = time.monotonic()
    try:
        fn(emu)
    except Exception:
        print(f"FAIL {fn.__name__}\n{traceback.format_exc()}", flush=True)
        return False
    print(f"PASS {fn.__name__} ({time.monotonic() - started:.1f} s)", flush=True)
    return True


# Run against one emulator image, started with the paid-app example's product.
WITH_SHARED_EMULATOR = [
    test_emulator_image_answers_boto3_from_outside,
    test_guard_image_checks_and_execs,
    test_paid_app_image_starts_its_app_as_10001_and_a_denied_product_stops_with_77,
    test_sidecar_image_meters_two_dimensions,
    test_image_configuration_both_architectures,
    test_examples_name_paths_their_built_images_have,
]
# Start their own emulator images on the same port, once that one has stopped.
WITH_OWN_EMULATOR = [test_ci_examples_run_against_the_emulator_image]


def main():
    declared = {fn for name, fn in globals().items() if name.startswith("test_")}
    assert declared == set(WITH_SHARED_EMULATOR + WITH_OWN_EMULATOR), "a test is in neither list"
    results = []
    try:
        prerequisites()
        with Emulator(product_args()) as emu:
            results += [run(fn, emu) for fn in WITH_SHARED_EMULATOR]
        results += [run(fn, None) for fn in WITH_OWN_EMULATOR]
    except Missing as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    passed = sum(results)
    print(f"images: {passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
