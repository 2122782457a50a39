"""Scenario, run with the SageMaker Python SDK v2's own virtualenv (.venv-sdk2), not imported:

    Estimator(image_uri=..., entry_point="train_numpy.py", source_dir=<examples>).fit(inputs, logs=True)

exactly as a user writes it, with the bucket named in the Session: the environment carries only
AWS_ENDPOINT_URL (sagewatch), AWS_ENDPOINT_URL_S3 (the S3-compatible server), region and dummy
credentials. (Left to find its default bucket itself, the SDK would ask STS for the account
through a hard-coded https://sts.<region>.amazonaws.com endpoint, sagemaker/session.py
generate_default_sagemaker_bucket_name, which no endpoint variable reaches.)

Usage: python v2_estimator_fit.py IMAGE_URI ROLE_ARN SOURCE_DIR TRAINING_S3_URI BUCKET
Prints the SDK's own output, then one line `SCENARIO-RESULT {json}` for the test.
"""

import json
import sys

from sagemaker.estimator import Estimator
from sagemaker.session import Session


def main() -> None:
    image_uri, role, source_dir, training_uri, bucket = sys.argv[1:6]
    estimator = Estimator(
        sagemaker_session=Session(default_bucket=bucket),
        image_uri=image_uri,
        role=role,
        instance_count=1,
        instance_type="ml.m5.large",
        entry_point="train_numpy.py",
        source_dir=source_dir,
        hyperparameters={"epochs": 4, "learning-rate": 0.5},
        metric_definitions=[
            {"Name": "validation:loss", "Regex": r"validation_loss=([0-9.]+)"},
            {"Name": "validation:accuracy", "Regex": r"validation_accuracy=([0-9.]+)"},
        ],
        base_job_name="sdk-v2-fit",
    )
    estimator.fit({"training": training_uri}, logs=True)
    job = estimator.latest_training_job
    print("SCENARIO-RESULT " + json.dumps({"job_name": job.name, "model_data": estimator.model_data}),
          flush=True)


if __name__ == "__main__":
    main()
