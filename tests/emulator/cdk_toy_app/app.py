import aws_cdk as cdk
from aws_cdk import aws_iam as iam, aws_lambda as lambda_, aws_logs as logs, aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct


class ToyStack(cdk.Stack):
    def __init__(self, scope: Construct, cid: str, *, omit_get: bool = False, **kw) -> None:
        super().__init__(scope, cid, **kw)
        bucket = s3.Bucket(self, "Archive", versioned=True, encryption=s3.BucketEncryption.S3_MANAGED,
                           object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED, enforce_ssl=True,
                           removal_policy=cdk.RemovalPolicy.RETAIN)
        user = iam.User(self, "LogzioUser")
        policy = iam.Policy(self, "LogzioPolicy", users=[user], statements=[
            iam.PolicyStatement(actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[bucket.bucket_arn]),
            iam.PolicyStatement(actions=["s3:PutObject"] + ([] if omit_get else ["s3:GetObject"]),
                                resources=[bucket.arn_for_objects("*")]),
        ])
        key = iam.AccessKey(self, "LogzioKey", user=user)
        secret = sm.Secret(self, "LogzioSecret", secret_object_value={
            "accessKeyId": cdk.SecretValue.unsafe_plain_text(key.access_key_id),
            "secretAccessKey": key.secret_access_key})
        log_group = logs.LogGroup(self, "ProbeLogs", removal_policy=cdk.RemovalPolicy.DESTROY)
        fn = lambda_.Function(self, "Probe", runtime=lambda_.Runtime.PYTHON_3_14,
                              handler="archive_probe.lambda_handler.handler",
                              code=lambda_.Code.from_asset("lambda"), timeout=cdk.Duration.seconds(60),
                              log_group=log_group)
        secret.grant_read(fn)
        fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
                                                  resources=[bucket.arn_for_objects("logzio-archive-probe/*")]))
        probe = cdk.CustomResource(self, "ArchiveProbe", service_token=fn.function_arn,
                                   resource_type="Custom::LogzioArchiveProbe",
                                   properties={"BucketName": bucket.bucket_name, "SecretArn": secret.secret_arn})
        probe.node.add_dependency(policy)
        probe.node.add_dependency(key)
        cdk.CfnOutput(self, "BucketName", value=bucket.bucket_name)
        cdk.CfnOutput(self, "ProbeResult", value=probe.get_att_string("Checked"))


app = cdk.App()
ToyStack(app, "ToyStack", omit_get=app.node.try_get_context("omit_get") == "1")
app.synth()
