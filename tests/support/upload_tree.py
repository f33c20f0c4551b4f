"""Puts every file under ROOT into BUCKET of the moto server at URL, keyed by its path
relative to ROOT (creating the bucket if needed). Test seeding only: natcost itself never writes.

usage: upload_tree.py URL BUCKET ROOT [REGION]
"""
import os
import sys

import boto3


def main():
    url, bucket, root = sys.argv[1:4]
    region = sys.argv[4] if len(sys.argv) > 4 else "ap-northeast-2"
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        s3.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region}
        )
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    n = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            key = os.path.relpath(path, root).replace(os.sep, "/")
            s3.upload_file(path, bucket, key)
            n += 1
    print(n)


if __name__ == "__main__":
    main()
