"""Independent oracle for the known-answer tokens in tests/tokens/known_answers.rs.

Reimplements PyJWT 2.x `jwt.encode` with the standard library and `cryptography`:
header json.dumps(sort_keys=True, separators=(",", ":")), payload
json.dumps(separators=(",", ":")) (ensure_ascii=True), base64url without padding.
Run: python3 tests/data/kat.py (prints one token per line). Not run by CI.
"""
import base64, hashlib, hmac, json, pathlib

from cryptography.hazmat.primitives.serialization import load_pem_private_key

T0 = 1767225600
SECRET = b"simplejwt-peer-test-signing-key-0123456789abcdef0123456789abcdef"
VECTORS = json.loads((pathlib.Path(__file__).parent / "vectors.json").read_text())["vectors"]
ED_KEY = next(v for v in VECTORS if v["algorithm"] == "EdDSA")["signing_key"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(claims, alg, kid=None):
    header = {"typ": "JWT", "alg": alg}
    if kid is not None:
        header["kid"] = kid
    signing_input = (
        b64(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())
        + "."
        + b64(json.dumps(claims, separators=(",", ":")).encode())
    ).encode()
    if alg == "HS256":
        sig = hmac.new(SECRET, signing_input, hashlib.sha256).digest()
    elif alg == "EdDSA":
        sig = load_pem_private_key(ED_KEY.encode(), None).sign(signing_input)
    return signing_input.decode() + "." + b64(sig)


refresh = {
    "token_type": "refresh",
    "exp": T0 + 86400,
    "iat": T0,
    "jti": "00000000000040018000000000000002",
    "user_id": "42",
    "name": "Zo\u00eb \U0001F600",
    "roles": ["admin", "ops"],
    "ratio": 0.00001,
}
access = {
    "token_type": "access",
    "exp": T0 + 300,
    "iat": T0,
    "jti": "00000000000040038000000000000004",
    "user_id": "42",
    "name": "Zo\u00eb \U0001F600",
    "roles": ["admin", "ops"],
    "ratio": 0.00001,
}
print(encode(refresh, "HS256"))
print(encode(access, "HS256"))
print(encode(refresh, "EdDSA", kid="k\u00e9y/1"))
print(encode(access, "EdDSA", kid="k\u00e9y/1"))
