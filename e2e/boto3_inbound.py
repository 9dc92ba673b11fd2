#!/usr/bin/python3
"""boto3 checks for e2e/inbound.sh: an access key and an STS session reading a restricted product.

    E2E_KEY_ID=... E2E_SECRET=... E2E_TOKEN=<web identity JWT> \\
      /usr/bin/python3 e2e/boto3_inbound.py http://127.0.0.1:PORT DATA_DIR_OF_demo/private

Prints one line per check ("ok  boto3: ..." or "FAIL boto3: ..."), diagnostics
on other lines, and exits 1 if any check failed. Every check runs even if an
earlier one failed.
"""
import hashlib
import os
import sys
from datetime import datetime, timezone

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from boto3_common import Checks, s3_client

ENDPOINT, DATA = sys.argv[1], sys.argv[2]
BUCKET = "demo"
PRODUCT = "private"
ROLE_ARN = "arn:aws:iam::123456789012:role/e2e-reader"
BIG = "blob.bin"
ODD = "reports/year=2024/q1 total=42.csv"

keyed = s3_client(ENDPOINT, aws_access_key_id=os.environ["E2E_KEY_ID"], aws_secret_access_key=os.environ["E2E_SECRET"])
anonymous = s3_client(ENDPOINT, unsigned=True)
check = Checks()


def read(rel):
    with open(os.path.join(DATA, rel), "rb") as f:
        return f.read()


def walk():
    """{"private/rel/path": size} for every file of the restricted product."""
    out = {}
    for d, _, files in os.walk(DATA):
        for f in files:
            p = os.path.join(d, f)
            out[PRODUCT + "/" + os.path.relpath(p, DATA).replace(os.sep, "/")] = os.path.getsize(p)
    return out


def sha256_of_body(r):
    h = hashlib.sha256()
    n = 0
    for chunk in r["Body"].iter_chunks(1 << 16):
        h.update(chunk)
        n += len(chunk)
    return h.hexdigest(), n


def assert_same_sha256(client, rel):
    want = hashlib.sha256(read(rel)).hexdigest()
    got, n = sha256_of_body(client.get_object(Bucket=BUCKET, Key=f"{PRODUCT}/{rel}"))
    assert got == want, f"sha256 {got} != {want} ({n} bytes received)"


def assert_listing(client):
    want = walk()
    pages, seen, sizes = 0, [], {}
    for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=PRODUCT + "/", PaginationConfig={"PageSize": 2}):
        pages += 1
        for o in page.get("Contents", []):
            seen.append(o["Key"])
            sizes[o["Key"]] = o["Size"]
    dup = sorted({k for k in seen if seen.count(k) > 1})
    assert not dup, f"keys listed more than once: {dup}"
    assert set(seen) == set(want), f"keys: missing {sorted(set(want) - set(seen))}, unexpected {sorted(set(seen) - set(want))}"
    assert sizes == want, f"sizes: expected {want}, got {sizes}"
    min_pages = (len(want) + 1) // 2
    assert pages >= min_pages, f"expected >= {min_pages} pages of <= 2 keys, got {pages}"


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response.get("Error", {}).get("Code"), e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    raise AssertionError("no error")


@check("access key: get_object of the 1 MiB file has its sha256")
def _():
    assert_same_sha256(keyed, BIG)


@check("access key: get_object of a key with a space and '=' is byte-exact")
def _():
    body = keyed.get_object(Bucket=BUCKET, Key=f"{PRODUCT}/{ODD}")["Body"].read()
    assert body == read(ODD), f"body differs ({len(body)} bytes)"


@check("access key: list_objects_v2 paginator (PageSize 2, Prefix private/) gives every key once with its size")
def _():
    assert_listing(keyed)


@check("anonymous: get_object of the restricted product raises NoSuchBucket (404)")
def _():
    code, status = error_of(lambda: anonymous.get_object(Bucket=BUCKET, Key=f"{PRODUCT}/{BIG}"))
    assert (code, status) == ("NoSuchBucket", 404), f"expected NoSuchBucket/404, got {code!r}/{status}"


session = {}


@check("sts: assume_role_with_web_identity returns a session that expires in the future")
def _():
    sts = boto3.client("sts", endpoint_url=ENDPOINT + "/.sts", region_name="us-east-1",
                       config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60))
    r = sts.assume_role_with_web_identity(RoleArn=ROLE_ARN, RoleSessionName="e2e-boto3",
                                          WebIdentityToken=os.environ["E2E_TOKEN"], DurationSeconds=900)
    c = r["Credentials"]
    for k in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        assert c.get(k), f"Credentials.{k} is empty"
    exp = c["Expiration"]
    assert exp > datetime.now(timezone.utc), f"Expiration {exp} is not in the future"
    session.update(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                   aws_session_token=c["SessionToken"])
    arn = r.get("AssumedRoleUser", {}).get("Arn", "")
    print(f"  AssumedRoleUser.Arn={arn!r} SubjectFromWebIdentityToken={r.get('SubjectFromWebIdentityToken')!r}")


@check("sts session: get_object of the 1 MiB file has its sha256")
def _():
    assert session, "no session (the STS check failed)"
    assert_same_sha256(s3_client(ENDPOINT, **session), BIG)


@check("sts session: list_objects_v2 paginator under private/ gives every key once")
def _():
    assert session, "no session (the STS check failed)"
    assert_listing(s3_client(ENDPOINT, **session))


sys.exit(1 if check.failures else 0)
