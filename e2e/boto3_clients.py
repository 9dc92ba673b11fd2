"""boto3's row of the real-client matrix (e2e/clients.sh): list, get whole, get a range, head
and copy down every file of one product, comparing each answer with the product's directory.

    /usr/bin/python3 e2e/boto3_clients.py ENDPOINT DATA_DIR PRODUCT KEY LABEL

Signs with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when they are set, else sends unsigned
requests. Prints "ok  boto3 LABEL: ..." / "FAIL boto3 LABEL: ..." lines; exits 1 on a failure.
"""
import os
import sys
import tempfile

from boto3_common import Checks, s3_client

ENDPOINT, DATA, PRODUCT, KEY, LABEL = sys.argv[1:6]
ROOT = os.path.join(DATA, PRODUCT)
signed = bool(os.environ.get("AWS_ACCESS_KEY_ID"))
s3 = s3_client(ENDPOINT, unsigned=not signed)
check = Checks()


def walk():
    out = {}
    for d, _, files in os.walk(ROOT):
        for f in files:
            p = os.path.join(d, f)
            out[f"{PRODUCT}/{os.path.relpath(p, ROOT)}"] = os.path.getsize(p)
    return out


def read(key):
    with open(os.path.join(DATA, key), "rb") as f:
        return f.read()


def listed():
    got = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="demo", Prefix=f"{PRODUCT}/", PaginationConfig={"PageSize": 2}):
        for o in page.get("Contents", []):
            assert o["Key"] not in got, f"{o['Key']} listed twice"
            got[o["Key"]] = o["Size"]
    return got


def name(what):
    return f"{LABEL}: {what}"


@check(name(f"list {PRODUCT}/ (pages of 2) gives every file with its size"))
def _():
    want, got = walk(), listed()
    assert got == want, f"{len(got)} listed, {len(want)} files; missing {sorted(set(want) - set(got))}, extra {sorted(set(got) - set(want))}"


@check(name(f"get {PRODUCT}/{KEY} equals the file"))
def _():
    body = s3.get_object(Bucket="demo", Key=f"{PRODUCT}/{KEY}")["Body"].read()
    assert body == read(f"{PRODUCT}/{KEY}"), f"{len(body)} bytes differ from the file"


@check(name(f"get {PRODUCT}/{KEY} bytes=3-10 equals the slice"))
def _():
    r = s3.get_object(Bucket="demo", Key=f"{PRODUCT}/{KEY}", Range="bytes=3-10")
    body = r["Body"].read()
    assert body == read(f"{PRODUCT}/{KEY}")[3:11], f"got {body!r}"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206


@check(name(f"head {PRODUCT}/{KEY} has the file's size"))
def _():
    h = s3.head_object(Bucket="demo", Key=f"{PRODUCT}/{KEY}")
    assert h["ContentLength"] == len(read(f"{PRODUCT}/{KEY}")), h["ContentLength"]


@check(name(f"copy {PRODUCT}/ down file by file: every file, byte-equal"))
def _():
    want = walk()
    with tempfile.TemporaryDirectory() as tmp:
        n = 0
        for key in listed():
            dest = os.path.join(tmp, key)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            s3.download_file("demo", key, dest)
            n += 1
            with open(dest, "rb") as f:
                assert f.read() == read(key), f"{key} differs"
        assert n == len(want), f"copied {n} of {len(want)} files"


sys.exit(1 if check.failures else 0)
