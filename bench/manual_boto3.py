"""Stand-in for one `aws s3` command of Logz.io's manual test, for machines without the aws CLI.

    python -m bench.manual_boto3 mv FILE s3://BUCKET/      (aws s3 mv dummy s3://B/)
    python -m bench.manual_boto3 ls s3://BUCKET/           (aws s3 ls s3://B/)
    python -m bench.manual_boto3 cp s3://BUCKET/KEY DEST   (aws s3 cp s3://B/dummy .)

Each run is a fresh Python process that imports boto3 and makes the same S3 calls as the
aws CLI v1 does for these commands (mv: PutObject then delete the local file; ls:
ListObjectsV2 with Delimiter "/"; cp: HeadObject then GetObject). It is cheaper than the
real CLI (no awscli command table to build), so the ratio it gives flatters the manual test.
Endpoint and credentials come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...).
"""

from __future__ import annotations

import os
import sys


def _split(url: str) -> tuple[str, str]:
    bucket, _, key = url[len("s3://"):].partition("/")
    return bucket, key


def main(argv: list[str]) -> int:
    import boto3

    s3 = boto3.client("s3")
    command = argv[0]
    if command == "mv":
        path, (bucket, prefix) = argv[1], _split(argv[2])
        key = prefix + os.path.basename(path) if (not prefix or prefix.endswith("/")) else prefix
        with open(path, "rb") as body:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        os.remove(path)
        print(f"move: {path} to s3://{bucket}/{key}")
    elif command == "ls":
        bucket, prefix = _split(argv[1])
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                print(f"{'PRE':>30} {common['Prefix']}")
            for item in page.get("Contents", []):
                print(f"{item['LastModified']:%Y-%m-%d %H:%M:%S} {item['Size']:>10} {item['Key']}")
    elif command == "cp":
        (bucket, key), dest = _split(argv[1]), argv[2]
        target = os.path.join(dest, os.path.basename(key)) if os.path.isdir(dest) else dest
        s3.head_object(Bucket=bucket, Key=key)
        with open(target, "wb") as out:
            out.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        print(f"download: s3://{bucket}/{key} to {target}")
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
