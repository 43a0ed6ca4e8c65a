"""The bucket settings the probe reads, through the AWS API with IAM enforced: Requester
Pays, Intelligent-Tiering configurations, lifecycle rules, the bucket policy and the bucket
list. Each test names the extension it covers and fails without it on moto 5.2.5, except
the last, which pins moto behaviour the probe relies on (no extension needed)."""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from tests.emulator.stacks import user_credentials

ARCHIVE = {"Id": "cheap", "Status": "Enabled", "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}
DEEP_TAGGED = {"Id": "cold", "Status": "Enabled",
               "Filter": {"And": {"Prefix": "exports/", "Tags": [{"Key": "team", "Value": "ops"},
                                                                 {"Key": "tier", "Value": "cold"}]}},
               "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
                            {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}


def _bucket(emu, prefix="feat"):
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    emu.client("s3").create_bucket(Bucket=name)
    return name


def _allowed(emu, bucket, *actions):
    return emu.client("s3", **user_credentials(
        emu, [{"Effect": "Allow", "Action": list(actions), "Resource": f"arn:aws:s3:::{bucket}"}]))


def _error(call):
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_requester_pays_is_stored_and_read_back(emu):
    """bucket_features: moto answered GetBucketRequestPayment with a ListObjects result (no
    Payer) and took PutBucketRequestPayment for CreateBucket."""
    s3, bucket = emu.client("s3"), _bucket(emu, "payer")
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert _error(lambda: s3.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "Nobody"})) == ("MalformedXML", 400)
    assert _error(lambda: s3.get_bucket_request_payment(Bucket=bucket + "-gone")) == ("NoSuchBucket", 404)


def test_requester_pays_is_authorized_as_its_own_actions(emu):
    """bucket_features: s3:GetBucketRequestPayment / s3:PutBucketRequestPayment, not
    s3:ListBucket / s3:CreateBucket."""
    bucket = _bucket(emu, "payer")
    emu.client("s3").put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    what_moto_checked = _allowed(emu, bucket, "s3:ListBucket", "s3:CreateBucket")
    reader = _allowed(emu, bucket, "s3:GetBucketRequestPayment")
    writer = _allowed(emu, bucket, "s3:PutBucketRequestPayment")
    assert _error(lambda: what_moto_checked.get_bucket_request_payment(Bucket=bucket))[0] == "AccessDenied"
    assert _error(lambda: what_moto_checked.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"}))[0] == "AccessDenied"
    assert reader.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"
    assert _error(lambda: reader.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"}))[0] == "AccessDenied"
    writer.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert reader.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"


def test_expected_bucket_owner_of_another_account_is_denied(emu):
    """expected_bucket_owner: moto ignored ExpectedBucketOwner; the probe's owner check for a
    Requester Pays bucket (GetBucketRequestPayment with it) relies on the 403."""
    s3, bucket = emu.client("s3"), _bucket(emu, "owner")
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    account = emu.client("sts").get_caller_identity()["Account"]
    other = "210987654321" if account != "210987654321" else "123456789012"
    assert s3.get_bucket_request_payment(Bucket=bucket, ExpectedBucketOwner=account)["Payer"] == "Requester"
    assert _error(lambda: s3.get_bucket_request_payment(Bucket=bucket, ExpectedBucketOwner=other)) == (
        "AccessDenied", 403)
    assert _error(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=other)) == (
        "AccessDenied", 403)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)  # nothing was written
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=account)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=account)["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="k")


def test_intelligent_tiering_configurations_round_trip(emu):
    """bucket_features: moto listed none, stored none, and DeleteBucketIntelligentTiering-
    Configuration deleted the (empty) bucket itself."""
    s3, bucket = emu.client("s3"), _bucket(emu, "tier")
    assert s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket).get(
        "IntelligentTieringConfigurationList", []) == []
    for configuration in (DEEP_TAGGED, ARCHIVE):
        s3.put_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=configuration["Id"],
                                                        IntelligentTieringConfiguration=configuration)
    assert s3.get_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="cold")["IntelligentTieringConfiguration"] == DEEP_TAGGED
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert listed["IsTruncated"] is False
    assert listed["IntelligentTieringConfigurationList"] == [ARCHIVE, DEEP_TAGGED]  # by id
    # A put replaces the configuration of that id.
    paused = {**ARCHIVE, "Status": "Disabled", "Filter": {"Prefix": "logs/"}}
    s3.put_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cheap", IntelligentTieringConfiguration=paused)
    assert s3.get_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="cheap")["IntelligentTieringConfiguration"] == paused
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cheap")
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cold")
    assert s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket).get(
        "IntelligentTieringConfigurationList", []) == []
    s3.head_bucket(Bucket=bucket)  # the bucket is still there
    assert _error(lambda: s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cheap")) == (
        "NoSuchConfiguration", 404)
    assert _error(lambda: s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cheap")) == (
        "NoSuchConfiguration", 404)
    # The id in the body must be the id of the request.
    assert _error(lambda: s3.put_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="other", IntelligentTieringConfiguration=ARCHIVE)) == ("MalformedXML", 400)


def test_intelligent_tiering_list_comes_in_pages(emu):
    """bucket_features: IsTruncated, NextContinuationToken and ContinuationToken, as the
    probe pages through them."""
    from emulator.extensions.bucket_features import PAGE_SIZE

    s3, bucket = emu.client("s3"), _bucket(emu, "tier")
    ids = [f"config-{n:04d}" for n in range(PAGE_SIZE + 1)]
    for config_id in ids:
        s3.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id=config_id, IntelligentTieringConfiguration={**ARCHIVE, "Id": config_id})
    first = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert first["IsTruncated"] is True and "ContinuationToken" not in first
    assert [c["Id"] for c in first["IntelligentTieringConfigurationList"]] == ids[:PAGE_SIZE]
    second = s3.list_bucket_intelligent_tiering_configurations(
        Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert second["IsTruncated"] is False and "NextContinuationToken" not in second
    assert second["ContinuationToken"] == first["NextContinuationToken"]
    assert [c["Id"] for c in second["IntelligentTieringConfigurationList"]] == ids[PAGE_SIZE:]
    assert _error(lambda: s3.list_bucket_intelligent_tiering_configurations(
        Bucket=bucket, ContinuationToken="not a token"))[0] == "InvalidArgument"


def test_intelligent_tiering_is_authorized_as_its_own_actions(emu):
    """bucket_features: s3:GetIntelligentTieringConfiguration (Get and List) and
    s3:PutIntelligentTieringConfiguration (Put and Delete); moto checked s3:ListBucket,
    s3:CreateBucket and s3:DeleteBucket."""
    bucket = _bucket(emu, "tier")
    emu.client("s3").put_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="cheap", IntelligentTieringConfiguration=ARCHIVE)
    what_moto_checked = _allowed(emu, bucket, "s3:ListBucket", "s3:CreateBucket", "s3:DeleteBucket")
    reader = _allowed(emu, bucket, "s3:GetIntelligentTieringConfiguration")
    writer = _allowed(emu, bucket, "s3:PutIntelligentTieringConfiguration")
    for client in (what_moto_checked, writer):
        assert _error(lambda: client.list_bucket_intelligent_tiering_configurations(
            Bucket=bucket))[0] == "AccessDenied"
        assert _error(lambda: client.get_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id="cheap"))[0] == "AccessDenied"
    for client in (what_moto_checked, reader):
        assert _error(lambda: client.put_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id="cold", IntelligentTieringConfiguration=DEEP_TAGGED))[0] == "AccessDenied"
        assert _error(lambda: client.delete_bucket_intelligent_tiering_configuration(
            Bucket=bucket, Id="cheap"))[0] == "AccessDenied"
    assert reader.list_bucket_intelligent_tiering_configurations(Bucket=bucket)[
        "IntelligentTieringConfigurationList"] == [ARCHIVE]
    writer.put_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cold",
                                                        IntelligentTieringConfiguration=DEEP_TAGGED)
    writer.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="cheap")
    assert reader.get_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id="cold")["IntelligentTieringConfiguration"] == DEEP_TAGGED
    assert [c["Id"] for c in reader.list_bucket_intelligent_tiering_configurations(Bucket=bucket)[
        "IntelligentTieringConfigurationList"]] == ["cold"]


LIFECYCLE = [
    {"ID": "to-glacier", "Status": "Enabled", "Filter": {},
     "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
    {"ID": "old-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"},
     "Transitions": [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]},
    {"ID": "big-to-glacier", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1024},
     "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},
    {"ID": "big-old-exports", "Status": "Enabled",
     "Filter": {"And": {"Prefix": "exports/", "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 1 << 30}},
     "Transitions": [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]},
    {"ID": "tagged", "Status": "Disabled", "Filter": {"Tag": {"Key": "team", "Value": "ops"}},
     "Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}]},
]


def test_lifecycle_rules_read_back_as_put(emu):
    """lifecycle_size_filter: moto dropped ObjectSizeGreaterThan/LessThan from a rule's
    filter (a size-only filter read back as {}, an And as its prefix alone)."""
    s3, bucket = emu.client("s3"), _bucket(emu, "life")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": LIFECYCLE})
    reader = _allowed(emu, bucket, "s3:GetLifecycleConfiguration")
    assert reader.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == LIFECYCLE
    assert _error(lambda: _allowed(emu, bucket, "s3:ListBucket").get_bucket_lifecycle_configuration(
        Bucket=bucket))[0] == "AccessDenied"


def test_lifecycle_size_filter_of_a_cloudformation_bucket(emu, wait_stack):
    """lifecycle_size_filter (with bucket_settings): the template's ObjectSizeGreaterThan is
    read back in the rule's filter, with its prefix under And."""
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"LifecycleConfiguration": {
        "Rules": [{"Id": "Expire", "Status": "Enabled", "ExpirationInDays": 400, "ObjectSizeGreaterThan": "1024"},
                  {"Id": "OldToGlacier", "Status": "Enabled", "Prefix": "old/", "ObjectSizeGreaterThan": "1024",
                   "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}]},
                  {"Id": "Everything", "Status": "Enabled",
                   "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 90}]}]}}}},
        "Outputs": {"Name": {"Value": {"Ref": "Bucket"}}}}
    cfn, name = emu.client("cloudformation"), f"life-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    stack = wait_stack(cfn, name)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    bucket = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "Name")
    rules = {r["ID"]: r for r in emu.client("s3").get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["Expire"]["Filter"] == {"ObjectSizeGreaterThan": 1024}
    assert rules["Expire"]["Expiration"] == {"Days": 400}
    assert rules["OldToGlacier"]["Filter"] == {"And": {"Prefix": "old/", "ObjectSizeGreaterThan": 1024}}
    assert rules["OldToGlacier"]["Transitions"] == [{"Days": 30, "StorageClass": "GLACIER"}]
    assert rules["Everything"]["Filter"] == {"Prefix": ""}
    assert rules["Everything"]["Transitions"] == [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]


def test_bucket_policy_and_bucket_list_are_authorized_as_aws_does(emu):
    """No extension (moto 5.2.5 does this; pinned because the probe's over-privilege check
    relies on it): GetBucketPolicy is s3:GetBucketPolicy and answers NoSuchBucketPolicy
    when there is none; ListBuckets(MaxBuckets) is s3:ListAllMyBuckets."""
    s3, bucket = emu.client("s3"), _bucket(emu, "policy")
    lister = _allowed(emu, bucket, "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
    reader = emu.client("s3", **user_credentials(emu, [
        {"Effect": "Allow", "Action": "s3:GetBucketPolicy", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]))
    assert _error(lambda: lister.get_bucket_policy(Bucket=bucket))[0] == "AccessDenied"
    assert _error(lambda: lister.list_buckets(MaxBuckets=1))[0] == "AccessDenied"
    assert _error(lambda: reader.get_bucket_policy(Bucket=bucket))[0] == "NoSuchBucketPolicy"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/x"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert json.loads(reader.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(policy)
    assert len(reader.list_buckets(MaxBuckets=1)["Buckets"]) == 1
