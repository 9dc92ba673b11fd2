#!/usr/bin/python3
"""A test OIDC issuer for e2e/inbound.sh, with nothing but the stdlib and openssl.

    /usr/bin/python3 e2e/oidc_issuer.py init  DIR http://127.0.0.1:PORT   # RSA key, discovery doc, JWKS
    /usr/bin/python3 e2e/oidc_issuer.py serve DIR PORT                    # serve them on 127.0.0.1:PORT
    /usr/bin/python3 e2e/oidc_issuer.py mint  DIR --sub S --aud A [--exp-in SECONDS] [--iss URL] [--kid K]

`init` writes DIR/key.pem (RSA 2048 from `openssl genpkey`), DIR/pub.pem,
DIR/.well-known/openid-configuration ("issuer" is the URL given, "jwks_uri" is
URL/jwks.json) and DIR/jwks.json (one RS256 key, kid "e2e-1", n/e taken from
`openssl rsa -modulus` and `-text`). `serve` answers GET for those two
documents as application/json and 404 otherwise. `mint` prints an RS256 JWT:
base64url(header).base64url(payload).base64url(signature), the signature from
`openssl dgst -sha256 -sign` (PKCS#1 v1.5, which is what RS256 is). A negative
--exp-in mints an expired token (iat and nbf are then before exp as well).

No JWT or crypto package is needed: the test machine only guarantees the stdlib
(python3-boto3 is there, `jwt`/`cryptography` are not).
"""
import argparse
import base64
import http.server
import json
import os
import re
import subprocess
import sys
import time

KID = "e2e-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def openssl(*args, data=None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True, timeout=60).stdout


def int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def init(d: str, issuer: str) -> None:
    issuer = issuer.rstrip("/")
    os.makedirs(os.path.join(d, ".well-known"), exist_ok=True)
    key = os.path.join(d, "key.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
    openssl("pkey", "-in", key, "-pubout", "-out", os.path.join(d, "pub.pem"))
    modulus = openssl("rsa", "-in", key, "-noout", "-modulus").decode().strip()
    n = int(modulus.split("=", 1)[1], 16)
    text = openssl("rsa", "-in", key, "-noout", "-text").decode()
    m = re.search(r"publicExponent: (\d+)", text)
    if not m:
        raise SystemExit("no publicExponent in `openssl rsa -text` output")
    e = int(m.group(1))
    jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": b64url(int_bytes(n)), "e": b64url(int_bytes(e))}]}
    discovery = {
        "issuer": issuer,
        "jwks_uri": issuer + "/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    with open(os.path.join(d, "jwks.json"), "w") as f:
        json.dump(jwks, f)
    with open(os.path.join(d, ".well-known", "openid-configuration"), "w") as f:
        json.dump(discovery, f)
    with open(os.path.join(d, "issuer"), "w") as f:
        f.write(issuer)


def serve(d: str, port: int) -> None:
    files = {"/.well-known/openid-configuration": os.path.join(d, ".well-known", "openid-configuration"),
             "/jwks.json": os.path.join(d, "jwks.json")}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 -- the stdlib's name
            path = self.path.split("?", 1)[0]
            if path not in files:
                self.send_error(404)
                return
            with open(files[path], "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            sys.stderr.write("issuer: " + (fmt % args) + "\n")

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def mint(d: str, sub: str, aud: str, exp_in: int, iss: str, kid: str) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    exp = now + exp_in
    payload = {"iss": iss, "sub": sub, "aud": aud, "exp": exp, "iat": min(now, exp - 60), "nbf": min(now, exp - 60) - 1}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = openssl("dgst", "-sha256", "-sign", os.path.join(d, "key.pem"), data=signing_input.encode())
    return signing_input + "." + b64url(sig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)
    a = sp.add_parser("init")
    a.add_argument("dir")
    a.add_argument("issuer")
    a = sp.add_parser("serve")
    a.add_argument("dir")
    a.add_argument("port", type=int)
    a = sp.add_parser("mint")
    a.add_argument("dir")
    a.add_argument("--sub", required=True)
    a.add_argument("--aud", required=True)
    a.add_argument("--exp-in", type=int, default=600)
    a.add_argument("--iss", help="default: the issuer given to init")
    a.add_argument("--kid", default=KID)
    args = p.parse_args()
    if args.cmd == "init":
        init(args.dir, args.issuer)
    elif args.cmd == "serve":
        serve(args.dir, args.port)
    else:
        iss = args.iss
        if iss is None:
            with open(os.path.join(args.dir, "issuer")) as f:
                iss = f.read().strip()
        print(mint(args.dir, args.sub, args.aud, args.exp_in, iss, args.kid))


if __name__ == "__main__":
    main()
