#!/usr/bin/python3
"""boto3 checks for e2e/quickstart.sh.

    /usr/bin/python3 e2e/boto3_check.py http://127.0.0.1:PORT examples/data

Prints one line per check ("ok  boto3: ..." or "FAIL boto3: ..."), diagnostics
on other lines, and exits 1 if any check failed. Every check runs even if an
earlier one failed.
"""
import hashlib
import os
import sys

from botocore.exceptions import ClientError

from boto3_common import Checks, s3_client

ENDPOINT, DATA = sys.argv[1], sys.argv[2]
BUCKET = "demo"

s3 = s3_client(ENDPOINT, unsigned=True)
check = Checks()


def walk(product):
    """{"product/rel/path": size} for every file under DATA/product."""
    base = os.path.join(DATA, product)
    out = {}
    for d, _, files in os.walk(base):
        for f in files:
            p = os.path.join(d, f)
            out[product + "/" + os.path.relpath(p, base).replace(os.sep, "/")] = os.path.getsize(p)
    return out


def read(rel):
    with open(os.path.join(DATA, rel), "rb") as f:
        return f.read()


@check("get_object Range=bytes=0-9 equals the slice and has ContentRange")
def _():
    want = read("hello/greeting.txt")
    r = s3.get_object(Bucket=BUCKET, Key="hello/greeting.txt", Range="bytes=0-9")
    body = r["Body"].read()
    assert body == want[0:10], f"body {body!r} != {want[0:10]!r}"
    cr = r.get("ContentRange")
    assert cr == f"bytes 0-9/{len(want)}", f"ContentRange: expected 'bytes 0-9/{len(want)}', got {cr!r}"
    status = r["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 206, f"status: expected 206, got {status}"


@check("head_object has the file size and an ETag matching get_object")
def _():
    want = read("hello/greeting.txt")
    h = s3.head_object(Bucket=BUCKET, Key="hello/greeting.txt")
    assert h["ContentLength"] == len(want), f"ContentLength {h['ContentLength']} != {len(want)}"
    etag = h.get("ETag")
    assert etag, "no ETag"
    g = s3.get_object(Bucket=BUCKET, Key="hello/greeting.txt")
    assert g["Body"].read() == want, "get_object body differs"
    assert g.get("ETag") == etag, f"get_object ETag {g.get('ETag')!r} != head_object ETag {etag!r}"


def paginate_keys(op, **kw):
    pages = 0
    seen = []
    sizes = {}
    for page in s3.get_paginator(op).paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}, **kw):
        pages += 1
        for o in page.get("Contents", []):
            seen.append(o["Key"])
            sizes[o["Key"]] = o["Size"]
    return pages, seen, sizes


def check_listing(op):
    want = walk("hello")
    pages, seen, sizes = paginate_keys(op, Prefix="hello/")
    dup = sorted({k for k in seen if seen.count(k) > 1})
    assert not dup, f"keys listed more than once: {dup}"
    assert set(seen) == set(want), f"keys: missing {sorted(set(want) - set(seen))}, unexpected {sorted(set(seen) - set(want))}"
    assert sizes == want, f"sizes: expected {want}, got {sizes}"
    min_pages = (len(want) + 1) // 2
    assert pages >= min_pages, f"expected >= {min_pages} pages of <= 2 keys, got {pages}"


@check("list_objects_v2 paginator (PageSize 2, Prefix hello/) gives every key once")
def _():
    check_listing("list_objects_v2")


@check("list_objects (V1) paginator (PageSize 2, Prefix hello/) gives every key once")
def _():
    check_listing("list_objects")


@check("list_objects_v2 paginator with Delimiter='/' at the account root gives hello/ and census/")
def _():
    prefixes, keys = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Delimiter="/"):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert sorted(prefixes) == ["census/", "hello/"], f"CommonPrefixes: {prefixes}"
    assert keys == [], f"unexpected Contents at the root: {keys}"


@check("list_objects_v2 with Delimiter='/' under census/ gives the partitions and the file")
def _():
    prefixes, keys = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="census/", Delimiter="/"):
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        keys += [o["Key"] for o in page.get("Contents", [])]
    want_prefixes = sorted(
        f"census/{d}/" for d in os.listdir(os.path.join(DATA, "census")) if os.path.isdir(os.path.join(DATA, "census", d))
    )
    want_keys = sorted(
        f"census/{f}" for f in os.listdir(os.path.join(DATA, "census")) if os.path.isfile(os.path.join(DATA, "census", f))
    )
    assert sorted(prefixes) == want_prefixes, f"CommonPrefixes: expected {want_prefixes}, got {prefixes}"
    assert sorted(keys) == want_keys, f"Contents: expected {want_keys}, got {keys}"


@check("get_object of a missing key raises ClientError NoSuchKey")
def _():
    try:
        s3.get_object(Bucket=BUCKET, Key="hello/no-such-file.txt")
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        assert code == "NoSuchKey", f"error code: expected NoSuchKey, got {code!r} (HTTP {status})"
        assert status == 404, f"HTTP status: expected 404, got {status}"
        return
    raise AssertionError("no exception for a missing key")


@check("full download of census/households.csv has the file's sha256")
def _():
    want = hashlib.sha256(read("census/households.csv")).hexdigest()
    r = s3.get_object(Bucket=BUCKET, Key="census/households.csv")
    h = hashlib.sha256()
    n = 0
    for chunk in r["Body"].iter_chunks(1 << 16):
        h.update(chunk)
        n += len(chunk)
    assert h.hexdigest() == want, f"sha256 {h.hexdigest()} != {want} ({n} bytes received)"


@check("list_buckets names the account demo")
def _():
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["demo"], f"Buckets: {names}"


@check("get_object PartNumber=1 is the whole object, with no PartsCount")
def _():
    want = read("hello/greeting.txt")
    r = s3.get_object(Bucket=BUCKET, Key="hello/greeting.txt", PartNumber=1)
    assert r["Body"].read() == want
    assert "PartsCount" not in r, r.get("PartsCount")


@check("head_object VersionId='null' is the current object")
def _():
    h = s3.head_object(Bucket=BUCKET, Key="hello/greeting.txt", VersionId="null")
    assert h["ContentLength"] == len(read("hello/greeting.txt"))


@check("list_objects_v2 of a prefix with a space lists 'field notes/'")
def _():
    r = s3.list_objects_v2(Bucket=BUCKET, Prefix="hello/field notes/")
    keys = [o["Key"] for o in r.get("Contents", [])]
    assert keys == ["hello/field notes/day one.txt"], keys


sys.exit(1 if check.failures else 0)
