"""The construct from the wheel's [cdk] install, in a CDK app of the user's own (not this
repository's app.py), deployed with the real `cdk deploy` into the emulator."""

from __future__ import annotations

import json
import textwrap

from emulator import cdk_deploy
from tests.e2e.support import CDK, outputs, stack_of

#: What a platform team writes: its own bucket, with the archive next to it.
USER_APP = '''
import logzio_s3_archive
from aws_cdk import App, CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from logzio_s3_archive import LogzioArchive


class Platform(Stack):
    def __init__(self, scope, id, *, deny_uploads=False, **kwargs):
        super().__init__(scope, id, **kwargs)
        logs = s3.Bucket(self, "Logs", versioned=True, enforce_ssl=True,
                         object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
                         removal_policy=RemovalPolicy.DESTROY)
        if deny_uploads:
            # An administrator's statement: no uploads into this bucket, from anyone.
            logs.add_to_resource_policy(iam.PolicyStatement(
                effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()], actions=["s3:PutObject"],
                resources=[logs.arn_for_objects("*")]))
        archive = LogzioArchive(self, "Archive", bucket=logs, settle_seconds=0, watch_schedule="off")
        CfnOutput(self, "Verdict", value=archive.verdict)
        CfnOutput(self, "Checks", value=archive.checks)


open("library-path.txt", "w").write(logzio_s3_archive.__file__)
app = App()
Platform(app, "UserPlatform")
Platform(app, "UserPlatformDenied", deny_uploads=True)
app.synth()
'''


def test_the_installed_construct_deploys_in_a_users_own_app(bootstrapped, cdk_install, shipped, tmp_path,
                                                            monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    (tmp_path / "app.py").write_text(textwrap.dedent(USER_APP))
    out = tmp_path / "cdk.out"
    code, output = cdk_deploy(bootstrapped, CDK, str(tmp_path), ["UserPlatform", "UserPlatformDenied"],
                              extra_args=["--app", f"{cdk_install.python} app.py", "--output", str(out),
                                          "--concurrency", "2"])
    # The library came from the fresh environment, not from this repository.
    assert (tmp_path / "library-path.txt").read_text().startswith(str(cdk_install.site_packages))

    # The plain one: the probe ran as the construct's user on the user's bucket and passed.
    assert stack_of(bootstrapped, "UserPlatform")["StackStatus"] == "CREATE_COMPLETE", output
    found = outputs(bootstrapped, "UserPlatform")
    assert found["Verdict"].startswith("OK: all 4 permissions"), found
    assert found["Checks"] == ("s3:PutObject=granted; s3:ListBucket=granted; s3:GetObject=granted; "
                               "s3:GetBucketLocation=granted")

    # The bucket policy's Deny is in force in the emulator: the deploy fails, naming the permission.
    assert code != 0
    assert stack_of(bootstrapped, "UserPlatformDenied")["StackStatus"] in ("ROLLBACK_COMPLETE", "CREATE_FAILED",
                                                                          "ROLLBACK_FAILED"), output
    assert "s3:PutObject missing (AccessDenied" in output

    # The Lambda asset made from the installed package is the one made from the clone's source.
    def asset_key(template: dict) -> str:
        [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
        return function["Properties"]["Code"]["S3Key"]
    user_template = json.loads((out / "UserPlatform.template.json").read_text())
    assert asset_key(user_template) == asset_key(shipped.raw())
