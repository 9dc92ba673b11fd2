#!/usr/bin/env python3
"""Writes vectors.json: requests signed with AWS Signature Version 2 by botocore itself
(HmacV1Auth for the Authorization header, HmacV1QueryAuth for presigned URLs), so the
Java verifier is checked against an independent implementation, not against itself.

Run once with a python3 that has botocore (vectors.json names the version used) and
commit both this script and its output:

    python3 src/test/resources/sigv2/make_vectors.py > src/test/resources/sigv2/vectors.json

Each vector records the request exactly as it goes on the wire (method, raw path, raw
query, headers in order), the credentials, the string to sign botocore built and the
instant the verifier's clock must show. Nothing here is random, so reruns are identical.
"""
import json
import sys
from email.utils import formatdate
from unittest import mock
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.auth import HmacV1Auth, HmacV1QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOST = "127.0.0.1:9000"
NOW = 1_795_000_000  # 2026-11-18T11:06:40Z: a fixed signing time
ACCESS_KEY = "AKIASLUICESIGV2001"
SECRET = "sigv2/secret+with/slash+and+plus0123456"
TOKEN = "FQoGZXIvYXdzEXAMPLE+token/with==padding"


def sign(name, method, path, query="", headers=(), token=None, presign=False, expires=3600):
    """Signs one request with botocore and returns its vector."""
    creds = Credentials(ACCESS_KEY, SECRET, token)
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url)
    for key, value in headers:  # added one by one so a repeated name stays repeated
        request.headers[key] = value
    request.auth_path = None
    captured = []
    if presign:
        auth = HmacV1QueryAuth(creds, expires=expires)
    else:
        auth = HmacV1Auth(creds)
        auth._get_date = lambda: formatdate(NOW, usegmt=True)
    original = auth.sign_string

    def capture(string_to_sign):
        captured.append(string_to_sign)
        return original(string_to_sign)

    auth.sign_string = capture
    with mock.patch.object(botocore.auth.time, "time", return_value=float(NOW)):
        auth.add_auth(request)
    split = urlsplit(request.url)
    sent_headers = [[k, v] for k, v in request.headers.items()]
    if presign:
        # The query carries everything; a browser or curl sends only the host.
        sent_headers = [[k, v] for k, v in sent_headers if k.lower() in ("content-type", "content-md5")]
    return {
        "name": name,
        "presigned": presign,
        "method": method,
        "path": split.path,
        "query": split.query,
        "headers": [["Host", HOST]] + sent_headers,
        "accessKeyId": ACCESS_KEY,
        "secretAccessKey": SECRET,
        "securityToken": token,
        "stringToSign": captured[0],
        "now": NOW,
    }


VECTORS = [
    sign("get-object", "GET", "/demo/private/a/x.csv"),
    sign("head-object", "HEAD", "/demo/private/a/x.csv"),
    sign("key-with-space-and-equals", "GET", "/demo/private/key%20with%20space%3D1.txt"),
    sign("list-bucket-unsigned-parameters", "GET", "/demo",
         "list-type=2&prefix=private%2F&delimiter=%2F&encoding-type=url"),
    sign("version-id-and-response-overrides", "GET", "/demo/private/a/x.csv",
         "versionId=3%2FL4kqtJlcpXroDTDmJ%2Brmsz&response-content-type=text%2Fplain%3B%20charset%3Dutf-8"
         "&response-content-disposition=attachment%3B%20filename%3D%22a%20b.csv%22&x-id=GetObject"),
    sign("flags-sorted", "GET", "/demo/private/a/x.csv", "uploads&acl&torrent"),
    sign("part-number", "GET", "/demo/private/a/x.csv", "partNumber=2&uploadId=abc%2Bdef"),
    sign("standard-and-amz-headers", "PUT", "/demo/private/new.txt", headers=[
        ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
        ("Content-Type", "text/csv"),
        ("X-Amz-Meta-Reviewer", "  alice "),
        ("x-amz-meta-colour", "blue"),
        ("X-Amz-Storage-Class", "STANDARD"),
    ]),
    sign("repeated-amz-header", "GET", "/demo/private/a/x.csv", headers=[
        ("x-amz-meta-tag", "one"),
        ("X-Amz-Meta-Tag", "two"),
        ("x-amz-request-payer", "requester"),
    ]),
    sign("session-token-header", "GET", "/demo/private/a/x.csv", token=TOKEN),
    sign("presigned-get", "GET", "/demo/private/a/x.csv", presign=True),
    sign("presigned-odd-key", "GET", "/demo/private/reports/year%3D2024/q1%20total%3D42.csv",
         presign=True, expires=300),
    sign("presigned-response-override", "GET", "/demo/private/a/x.csv",
         "response-content-disposition=attachment%3B%20filename%3Dx.csv", presign=True),
    sign("presigned-session-token", "GET", "/demo/private/a/x.csv", token=TOKEN, presign=True),
]

if __name__ == "__main__":
    json.dump({"generator": f"botocore {botocore.__version__}", "vectors": VECTORS}, sys.stdout, indent=1)
    sys.stdout.write("\n")
