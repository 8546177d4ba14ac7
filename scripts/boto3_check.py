#!/usr/bin/env python3
"""The in-app check sellers write today, done fully: RegisterUsage through boto3
with a fresh nonce, then PyJWT verifies the PS256 token and its claims.

    boto3_check.py PRODUCT_CODE PUBLIC_KEY_PEM [KEY_VERSION]

Endpoint, Region and credentials come from the standard AWS variables
(AWS_ENDPOINT_URL_MARKETPLACE_METERING, AWS_REGION, ...). Exits 0 when entitled.
"""
import secrets
import sys

import boto3
import jwt


def main() -> int:
    product, key_path = sys.argv[1], sys.argv[2]
    version = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    nonce = secrets.token_hex(16)
    client = boto3.client("meteringmarketplace")
    answer = client.register_usage(ProductCode=product, PublicKeyVersion=version, Nonce=nonce)
    with open(key_path, "rb") as f:
        key = f.read()
    claims = jwt.decode(answer["Signature"], key, algorithms=["PS256"],
                        options={"verify_iat": False})
    if (claims.get("productCode") != product or claims.get("nonce") != nonce
            or claims.get("publicKeyVersion") != version):
        print("token claims do not match this call", file=sys.stderr)
        return 65
    return 0


if __name__ == "__main__":
    sys.exit(main())
