"""Scenario, run with the SageMaker Python SDK v3's own virtualenv (.venv-sdk3, package
sagemaker-train), not imported:

    ModelTrainer(training_image=..., source_code=SourceCode(source_dir=<examples>,
                 entry_script="train_numpy.py"), ...).train(input_data_config=[...], wait=True, logs=True)

The SDK uploads the code and its own drivers (sm_drivers) as input channels and runs them with
ContainerEntrypoint ["/bin/bash"] (sagemaker/train/model_trainer.py _create_training_job_args),
so the job runs the SDK's sm_train.sh against the absolute /opt/ml paths. Environment: as for the
v2 scenario (endpoint variables, region, dummy credentials, the SDK defaults file).

Usage: python v3_model_trainer.py IMAGE_URI ROLE_ARN SOURCE_DIR TRAINING_S3_URI
Prints the SDK's own output, then one line `SCENARIO-RESULT {json}` for the test.
"""

import json
import logging
import sys

from sagemaker.core.helper.session_helper import Session
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, InputData, SourceCode


def main() -> None:
    # v3 prints the job's lines through the `logging` module and, as a library, discards its
    # records until the application configures logging (sagemaker/core/__init__.py attaches a
    # NullHandler to "sagemaker", aws/sagemaker-python-sdk#4387); a user who wants to see them
    # does this (or sets SAGEMAKER_ENABLE_RICH_LOGGING=1 for the rich console).
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    image_uri, role, source_dir, training_uri, bucket = sys.argv[1:6]
    trainer = ModelTrainer(
        sagemaker_session=Session(default_bucket=bucket),
        training_image=image_uri,
        role=role,
        source_code=SourceCode(source_dir=source_dir, entry_script="train_numpy.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"epochs": 4, "learning-rate": 0.5},
        base_job_name="sdk-v3-train",
    )
    trainer.train(input_data_config=[InputData(channel_name="training", data_source=training_uri)],
                  wait=True, logs=True)
    job = trainer._latest_training_job  # the SDK keeps the TrainingJob it created here
    job.refresh()
    print("SCENARIO-RESULT " + json.dumps({
        "job_name": job.training_job_name,
        "model_data": job.model_artifacts.s3_model_artifacts,
    }), flush=True)


if __name__ == "__main__":
    main()
