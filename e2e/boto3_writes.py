"""boto3's writes (e2e/writes.sh): upload_file with a small multipart threshold, put_object
with IfNoneMatch='*' twice, a wrong Content-MD5, copy_object, delete_objects, and a presigned
PUT sent with a plain HTTP client. Every write is read back twice: through sluice, and from
the directory the product's file backend writes to (a client that says "done" must really
have stored the bytes).

    python3 e2e/boto3_writes.py ENDPOINT UPLOADS_DIR PRODUCT PREFIX LABEL

Signs with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY. Run with Debian's boto3 (no default
checksums) and with a current one (CRC32 trailers by default). Prints "ok  boto3: ..." /
"FAIL boto3: ..." lines; exits 1 on a failure.
"""
import hashlib
import os
import sys
import http.client
import tempfile
import urllib.parse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from boto3_common import Checks, s3_client

ENDPOINT, UPLOADS, PRODUCT, PREFIX, LABEL = sys.argv[1:6]
s3 = s3_client(ENDPOINT)
anonymous = s3_client(ENDPOINT, unsigned=True)
check = Checks()
MIB = 1024 * 1024
KEY = f"{PRODUCT}/{PREFIX}"  # keys below are f"{KEY}/name"; on disk at UPLOADS/PREFIX/name


def sha(b):
    return hashlib.sha256(b).hexdigest()


def through_sluice(name):
    return s3.get_object(Bucket="demo", Key=f"{KEY}/{name}")["Body"].read()


def on_disk(name):
    with open(os.path.join(UPLOADS, PREFIX, name), "rb") as f:
        return f.read()


def stored(name, expected):
    got = through_sluice(name)
    assert sha(got) == sha(expected), f"{name} through sluice: {len(got)} bytes, sha256 {sha(got)} != {sha(expected)}"
    disk = on_disk(name)
    assert sha(disk) == sha(expected), f"{name} on disk: {len(disk)} bytes, sha256 {sha(disk)} != {sha(expected)}"


def absent(name):
    try:
        s3.head_object(Bucket="demo", Key=f"{KEY}/{name}")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e
    else:
        raise AssertionError(f"{name} exists")
    assert not os.path.exists(os.path.join(UPLOADS, PREFIX, name)), f"{name} is on disk"


def plain_put(url, data):
    """A PUT with nothing but the body: no Content-Type (urllib would add one, which a
    Signature Version 2 URL, as older boto3 presigns, signs as empty)."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        c.request("PUT", f"{u.path}?{u.query}", body=data)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def refused(call, status, code):
    try:
        call()
    except ClientError as e:
        got = (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"])
        assert got == (status, code), f"answered {got}, expected {(status, code)}"
    else:
        raise AssertionError(f"succeeded; expected {status} {code}")


print(f"     | boto3 {boto3.__version__} ({sys.executable})", flush=True)


@check(f"{LABEL}: upload_file of 12 MiB with a 5 MiB threshold goes multipart and reads back byte-identical")
def _():
    data = os.urandom(12 * MIB)
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        s3.upload_file(f.name, "demo", f"{KEY}/multipart.bin",
                       Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, use_threads=False))
    etag = s3.head_object(Bucket="demo", Key=f"{KEY}/multipart.bin")["ETag"]
    assert etag.endswith('-3"'), f"ETag {etag} is not a 3-part multipart ETag"
    stored("multipart.bin", data)
    with tempfile.NamedTemporaryFile() as f:
        s3.download_file("demo", f"{KEY}/multipart.bin", f.name)
        assert sha(open(f.name, "rb").read()) == sha(data), "download_file differs"
    uploads = s3.list_multipart_uploads(Bucket="demo", Prefix=f"{KEY}/").get("Uploads", [])
    assert uploads == [], f"uploads still in progress: {uploads}"


def put_if_none_match(key, body):
    """put_object(IfNoneMatch='*'); a boto3 older than the parameter (Debian's) sends the header itself."""
    if "IfNoneMatch" in s3.meta.service_model.operation_model("PutObject").input_shape.members:
        return s3.put_object(Bucket="demo", Key=key, Body=body, IfNoneMatch="*")

    def header(request, **_):
        request.headers["If-None-Match"] = "*"

    s3.meta.events.register("before-sign.s3.PutObject", header)
    try:
        return s3.put_object(Bucket="demo", Key=key, Body=body)
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", header)


@check(f"{LABEL}: put_object(IfNoneMatch='*') creates, and a second is 412 PreconditionFailed leaving the first")
def _():
    first, second = os.urandom(1000), os.urandom(1000)
    put_if_none_match(f"{KEY}/once.bin", first)
    refused(lambda: put_if_none_match(f"{KEY}/once.bin", second), 412, "PreconditionFailed")
    stored("once.bin", first)


@check(f"{LABEL}: put_object with a wrong Content-MD5 is 400 BadDigest and stores nothing")
def _():
    import base64
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    refused(lambda: s3.put_object(Bucket="demo", Key=f"{KEY}/bad-md5.bin", Body=b"x" * 1000, ContentMD5=wrong), 400, "BadDigest")
    absent("bad-md5.bin")


@check(f"{LABEL}: put_object keeps Content-Type and x-amz-meta-*; copy_object copies bytes and metadata")
def _():
    data = os.urandom(5000)
    s3.put_object(Bucket="demo", Key=f"{KEY}/meta.csv", Body=data, ContentType="text/csv", Metadata={"origin": "e2e"})
    s3.copy_object(Bucket="demo", Key=f"{KEY}/meta-copy.csv", CopySource={"Bucket": "demo", "Key": f"{KEY}/meta.csv"})
    head = s3.head_object(Bucket="demo", Key=f"{KEY}/meta-copy.csv")
    assert head["ContentType"] == "text/csv", head["ContentType"]
    assert head["Metadata"] == {"origin": "e2e"}, head["Metadata"]
    stored("meta-copy.csv", data)


@check(f"{LABEL}: delete_objects (Quiet) removes every key and answers no error")
def _():
    for n in ("a", "b"):
        s3.put_object(Bucket="demo", Key=f"{KEY}/del/{n}", Body=n.encode())
    r = s3.delete_objects(Bucket="demo", Delete={"Quiet": True, "Objects": [{"Key": f"{KEY}/del/a"}, {"Key": f"{KEY}/del/b"}]})
    assert r.get("Errors", []) == [], r.get("Errors")
    absent("del/a")
    absent("del/b")


@check(f"{LABEL}: a presigned PUT works with a plain HTTP client, and only for its key")
def _():
    data = os.urandom(3000)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "demo", "Key": f"{KEY}/presigned.bin"}, ExpiresIn=300)
    moved = url.replace("/presigned.bin?", "/elsewhere.bin?")
    status, body = plain_put(moved, data)
    assert status == 403 and b"SignatureDoesNotMatch" in body, (status, body)
    status, body = plain_put(url, data)
    assert status == 200, (status, body)
    stored("presigned.bin", data)
    absent("elsewhere.bin")


@check(f"{LABEL}: an unsigned put_object is 403 AccessDenied and stores nothing")
def _():
    refused(lambda: anonymous.put_object(Bucket="demo", Key=f"{KEY}/anonymous.bin", Body=b"x"), 403, "AccessDenied")
    absent("anonymous.bin")


sys.exit(1 if check.failures else 0)
