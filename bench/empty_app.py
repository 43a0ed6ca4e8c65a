"""The baseline of the synth benchmark: an aws_cdk.App with one empty Stack, nothing else."""

import aws_cdk as cdk

app = cdk.App()
cdk.Stack(app, "Empty")
app.synth()
