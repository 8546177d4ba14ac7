#!/usr/bin/env python3
"""Writes the committed seed corpora under fuzz/corpus/ (needs `cryptography`).

    python3 scripts/fuzz_seeds.py        # from the repository root

Seeds are named seed-*; libFuzzer's own finds are git-ignored.
"""
import base64
import json
import os
import pathlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"
PRODUCT, NONCE, NOW = "prod-fuzz-1234", "nonce-sent-with-this-call", 1_800_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enc(value) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def sign(header: dict, claims: dict, key: str = "product-key-v1-rsa3072") -> str:
    private = serialization.load_pem_private_key(
        (FIXTURES / f"TEST-ONLY-{key}.private.pem").read_bytes(), password=None
    )
    signing_input = f"{b64(json.dumps(header, separators=(',', ':')).encode())}.{b64(json.dumps(claims, separators=(',', ':')).encode())}"
    signature = private.sign(
        signing_input.encode(),
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )
    return f"{signing_input}.{b64(signature)}"


def write(target: str, name: str, data: bytes) -> None:
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"seed-{name}").write_bytes(data)


def main() -> None:
    ps256 = {"alg": "PS256", "typ": "JWT"}
    claims = {"productCode": PRODUCT, "publicKeyVersion": 1, "nonce": NONCE, "iat": NOW}
    valid = sign(ps256, claims)
    h, p, s = valid.split(".")
    duplicate = b64(b'{"nonce":"a","nonce":"b"}')

    tokens = {
        "valid": valid,
        "wrong-nonce": sign(ps256, {**claims, "nonce": "an-old-nonce"}),
        "pascal-case": sign(ps256, {"ProductCode": PRODUCT, "PublicKeyVersion": 1, "Nonce": NONCE, "iat": NOW}),
        "attacker-key": sign(ps256, claims, "attacker-key-rsa3072"),
        "alg-none": f"{enc({'alg': 'none'})}.{p}.",
        "alg-hs256": f"{enc({'alg': 'HS256'})}.{p}.{b64(b'x' * 32)}",
        "crit": f"{enc({'alg': 'PS256', 'crit': ['exp']})}.{p}.{s}",
        "duplicate-member": f"{h}.{duplicate}.{s}",
        "padded": f"{h}={'.'}{p}.{s}",
        "two-segments": f"{h}.{p}",
        "empty": "",
    }
    for name, token in tokens.items():
        write("verify_token", name, token.encode())

    for name in ["product-key-v1-rsa3072", "product-key-rsa2048", "weak-key-rsa1024", "not-rsa-ec-p256"]:
        pem = (FIXTURES / f"TEST-ONLY-{name}.public.pem").read_bytes()
        write("public_key", f"{name}.pem", pem)
        der = serialization.load_pem_public_key(pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write("public_key", f"{name}.der", der)
    write("public_key", "pkcs1.pem", (FIXTURES / "TEST-ONLY-product-key-v1-rsa3072.pkcs1-public.pem").read_bytes())

    # register_usage_response: [status selector, error-type selector, body...]
    # Status 0 -> 200; error type 11+ -> no x-amzn-errortype header.
    def response(status: int, error_type: int, body: bytes) -> bytes:
        return bytes([status, error_type]) + body

    ok = json.dumps({"PublicKeyRotationTimestamp": 1.8e9, "Signature": valid}).encode()
    write("register_usage_response", "ok", response(0, 11, ok))
    write("register_usage_response", "ok-no-signature", response(0, 11, b'{"PublicKeyRotationTimestamp":1800000000}'))
    write("register_usage_response", "not-entitled", response(4, 0, b'{"__type":"CustomerNotEntitledException","message":"no"}'))
    write("register_usage_response", "throttled", response(7, 1, b'{"message":"Rate exceeded"}'))
    write("register_usage_response", "type-in-body", response(4, 12, b'{"__type":"com.amazonaws.marketplacemetering#InvalidRegionException","Message":"x"}'))
    write("register_usage_response", "truncated", response(0, 11, ok[: len(ok) // 2]))
    write("register_usage_response", "html-502", response(9, 12, b"<html>Bad Gateway</html>"))


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
