"""What the boto3 end-to-end checks share (imported by boto3_check.py and boto3_inbound.py):
the client settings, an S3 client factory and the check bookkeeping."""
import traceback

import boto3
from botocore import UNSIGNED
from botocore.config import Config

# Path style, no retries (a retry would hide what sluice answered first), bounded waits.
CONFIG = dict(
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1},
    connect_timeout=10,
    read_timeout=60,
)


def s3_client(endpoint, unsigned=False, **creds):
    extra = {"signature_version": UNSIGNED} if unsigned else {}
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(**CONFIG, **extra), **creds)


class Checks:
    """`@checks("name")` runs the function at once and prints "ok  boto3: name" or
    "FAIL boto3: name" with the reason; every check runs even if an earlier one failed."""

    def __init__(self):
        self.failures = 0

    def __call__(self, name):
        def wrap(fn):
            try:
                fn()
                print(f"ok  boto3: {name}", flush=True)
            except Exception as e:  # noqa: BLE001 -- every failure is a failed check
                self.failures += 1
                print(f"FAIL boto3: {name}", flush=True)
                for line in (f"{type(e).__name__}: {e}").splitlines():
                    print(f"  {line}", flush=True)
                if not isinstance(e, AssertionError):
                    for line in traceback.format_exc().splitlines()[-6:]:
                        print(f"  {line}", flush=True)
            return fn

        return wrap
