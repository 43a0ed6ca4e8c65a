"""The bucket owner condition: ``ExpectedBucketOwner`` (``x-amz-expected-bucket-owner``).

moto lacks (5.2.5): it ignores the header, so a request that names another account as the
bucket's owner is served as if it named the right one. AWS answers 403 Access Denied when
the bucket belongs to another account than the one named (S3 User Guide, "Verifying bucket
ownership with bucket owner condition"). The probe asks GetBucketRequestPayment with it to
tell whether the principal's account owns a Requester Pays bucket (docs/facts.md).

This extension: a bucket or object request carrying the header, on a bucket that exists
and belongs to another account than the one named, is answered 403 AccessDenied before
anything else is done. Every other request (no header, the right account, a bucket that
does not exist) goes on as moto serves it. Not modelled: the condition on the source
bucket of a copy (``x-amz-source-expected-bucket-owner``).
"""

from __future__ import annotations

from typing import Any

HEADER = "x-amz-expected-bucket-owner"


def _refused(self: Any, request: Any, full_url: str) -> bool:
    """Whether the request names another account as the owner of an existing bucket."""
    from moto.s3.exceptions import S3ClientError

    expected = request.headers.get(HEADER)
    if not expected:
        return False
    bucket_name = self.parse_bucket_name_from_url(request, full_url)
    if not bucket_name:
        return False
    try:
        bucket = self.backend.get_bucket(bucket_name)
    except S3ClientError:
        return False  # moto answers NoSuchBucket, as S3 does
    return str(bucket.account_id) != str(expected)


def _denied(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import S3ClientError

    _, headers, body = self.serialized(ActionResult(S3ClientError("AccessDenied", "Access Denied")))
    return 403, headers, body


def apply() -> None:
    from moto.s3.responses import S3Response

    original_bucket = S3Response._bucket_response
    original_key = S3Response._key_response

    def bucket_response(self, request, full_url):  # type: ignore[no-untyped-def]
        if _refused(self, request, full_url):
            return _denied(self)
        return original_bucket(self, request, full_url)

    def key_response(self, request, full_url):  # type: ignore[no-untyped-def]
        if _refused(self, request, full_url):
            return _denied(self)
        return original_key(self, request, full_url)

    S3Response._bucket_response = bucket_response
    S3Response._key_response = key_response
