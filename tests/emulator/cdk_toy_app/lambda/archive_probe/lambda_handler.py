import json
import logging
import os
import urllib.request
import uuid

import boto3

log = logging.getLogger()
log.setLevel(logging.INFO)


def _respond(event, status, reason, physical_id, data=None):
    body = json.dumps({"Status": status, "Reason": reason, "PhysicalResourceId": physical_id,
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": data or {}}).encode()
    req = urllib.request.Request(event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""})
    urllib.request.urlopen(req, timeout=10).read()


def handler(event, context):
    log.info("request %s", event["RequestType"])
    physical_id = event.get("PhysicalResourceId") or f"probe-{event['LogicalResourceId']}"
    if event["RequestType"] == "Delete":
        _respond(event, "SUCCESS", "nothing to do", physical_id)
        return
    props = event["ResourceProperties"]
    bucket = props["BucketName"]
    step = "GetSecretValue"
    try:
        secret = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=props["SecretArn"])["SecretString"])
        s3u = boto3.client("s3", aws_access_key_id=secret["accessKeyId"],
                           aws_secret_access_key=secret["secretAccessKey"], aws_session_token=None)
        key = f"logzio-archive-probe/{uuid.uuid4()}"
        step = "PutObject"
        put = s3u.put_object(Bucket=bucket, Key=key, Body=b"probe", IfNoneMatch="*")
        step = "ListObjectsV2"
        s3u.list_objects_v2(Bucket=bucket, Prefix="logzio-archive-probe/")
        step = "GetObject"
        s3u.get_object(Bucket=bucket, Key=key)["Body"].read()
        step = "GetBucketLocation"
        s3u.get_bucket_location(Bucket=bucket)
        step = "DeleteObjectVersion (role)"
        boto3.client("s3").delete_object(Bucket=bucket, Key=key, VersionId=put.get("VersionId", "null"))
    except Exception as exc:
        log.error("probe failed at %s: %s", step, exc)
        _respond(event, "FAILED", f"Archive probe failed at {step}: {exc}", physical_id)
        return
    _respond(event, "SUCCESS", "all checks passed", physical_id, {"Checked": "Put,List,Get,Location"})
