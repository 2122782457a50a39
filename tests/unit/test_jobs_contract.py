"""The per-instance /opt/ml tree and environment, for training and processing, 1 and 2 instances,
with and without a private /opt/ml."""

from __future__ import annotations

import dataclasses
import json

from sagewatch.config import JobSettings
from sagewatch.jobs import contract, images, namespace
from sagewatch.store.jobs import JobRecord

ARN = "arn:aws:sagemaker:us-east-1:000000000000:training-job/fit-1"
PROCESSING_ARN = "arn:aws:sagemaker:us-east-1:000000000000:processing-job/prep-1"


def training(hyperparameters=None, count=1, **more) -> JobRecord:
    request = {
        "TrainingJobName": "fit-1",
        "AlgorithmSpecification": {"TrainingImage": "1.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1",
                                   "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters or {},
        "InputDataConfig": [
            {"ChannelName": "training", "ContentType": "text/csv",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/t"}}},
            {"ChannelName": "validation",
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/v",
                                             "S3DataDistributionType": "ShardedByS3Key"}}}],
        "ResourceConfig": {"InstanceType": "ml.g5.xlarge", "InstanceCount": count, "VolumeSizeInGB": 1},
        "Environment": {"MY_SETTING": "on"},
        **more,
    }
    return JobRecord("TrainingJob", "fit-1", ARN, request, "InProgress", "Starting", [], 0.0, 0.0)


def resolved(job, private: bool) -> images.ResolvedImage:
    found = images.resolve(job.kind, job.request, JobSettings(private_opt_ml="false"))
    if private:
        # The tree's paths depend only on whether the instance gets a private /opt/ml, not on how
        # this machine provides one; so this holds on machines without namespaces too.
        found = dataclasses.replace(found, private=namespace.PrivateMount(("unshare", "--mount")))
    return found


def read(path):
    return json.loads(path.read_text())


def test_training_tree_for_each_of_two_instances(tmp_path):
    job = training({"epochs": "4", "sagemaker_program": '"train.py"'}, count=2)
    hosts = ["algo-1", "algo-2"]
    layouts = [contract.build(job.kind, job, host, hosts, tmp_path / host / "ml", gpus=[i], cpus=4)
               for i, host in enumerate(hosts)]
    for layout, host in zip(layouts, hosts):
        config = layout.ml_root / "input/config"
        # Strings exactly as given: the toolkit decodes them (reference §3.1).
        assert read(config / "hyperparameters.json") == {"epochs": "4", "sagemaker_program": '"train.py"'}
        assert read(config / "resourceconfig.json") == {
            "current_host": host, "current_instance_type": "ml.g5.xlarge",
            "current_group_name": "homogeneousCluster", "hosts": hosts,
            "instance_groups": [{"instance_group_name": "homogeneousCluster",
                                 "instance_type": "ml.g5.xlarge", "hosts": hosts}],
            "network_interface_name": "lo"}
        assert read(config / "inputdataconfig.json") == {
            "training": {"ContentType": "text/csv", "TrainingInputMode": "File",
                         "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
            "validation": {"TrainingInputMode": "File", "S3DistributionType": "ShardedByS3Key",
                           "RecordWrapperType": "None"}}
        for directory in ("input/data/training", "input/data/validation", "model", "output/data", "code"):
            assert (layout.ml_root / directory).is_dir(), directory
    assert layouts[0].env["CUDA_VISIBLE_DEVICES"] == "0" and layouts[1].env["CUDA_VISIBLE_DEVICES"] == "1"
    assert layouts[0].env["SM_CURRENT_HOST"] == "algo-1" and layouts[1].env["SM_CURRENT_HOST"] == "algo-2"
    assert layouts[0].ml_root != layouts[1].ml_root


def test_script_mode_environment_is_the_toolkits(tmp_path):
    job = training({"epochs": "4", "learning-rate": "0.1", "optimizer": '"adam"', "flag": "true",
                    "sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"s3://b/src.tar.gz"',
                    "sagemaker_region": '"us-east-1"', "sagemaker_distributed_dataparallel_enabled": "false"})
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", gpus=[0], cpus=4,
                            resolved=resolved(job, private=True))
    env = layout.env
    assert env["TRAINING_JOB_NAME"] == "fit-1" and env["TRAINING_JOB_ARN"] == ARN
    assert env["MY_SETTING"] == "on"
    assert env["SM_MODEL_DIR"] == "/opt/ml/model"
    assert env["SM_CHANNELS"] == '["training","validation"]'
    assert env["SM_CHANNEL_TRAINING"] == "/opt/ml/input/data/training"
    assert env["SM_CHANNEL_VALIDATION"] == "/opt/ml/input/data/validation"
    assert json.loads(env["SM_HPS"]) == {"epochs": 4, "learning-rate": 0.1, "optimizer": "adam", "flag": True}
    assert env["SM_HP_EPOCHS"] == "4" and env["SM_HP_OPTIMIZER"] == "adam"
    assert env["SM_HP_LEARNING-RATE"] == "0.1" and env["SM_HP_FLAG"] == "true"
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["SM_HOSTS"] == '["algo-1"]'
    assert env["SM_NUM_GPUS"] == "1" and env["SM_NUM_CPUS"] == "4"
    assert env["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert json.loads(env["SM_USER_ARGS"]) == ["--epochs", "4", "--flag", "True", "--learning-rate", "0.1",
                                               "--optimizer", "adam"]
    assert env["SM_MODULE_DIR"] == "s3://b/src.tar.gz"
    assert env["SM_USER_ENTRY_POINT"] == "train.py" and env["SM_MODULE_NAME"] == "train"
    assert json.loads(env["SM_FRAMEWORK_PARAMS"]) == {"sagemaker_distributed_dataparallel_enabled": False}
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"] == json.loads(env["SM_HPS"])
    assert training_env["channel_input_dirs"]["training"] == "/opt/ml/input/data/training"
    assert training_env["is_master"] is True and training_env["job_name"] == "fit-1"
    assert "SAGEMAKER_BASE_DIR" not in env
    assert layout.workdir == str(layout.code_dir)


def test_without_a_private_opt_ml_paths_are_the_trees_own(tmp_path):
    job = training({"sagemaker_program": '"train.py"'})
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", resolved=resolved(job, private=False))
    root = str(tmp_path / "ml")
    assert layout.opt_ml == root
    assert layout.env["SAGEMAKER_BASE_DIR"] == root
    assert layout.env["SM_MODEL_DIR"] == f"{root}/model"
    assert layout.env["SM_CHANNEL_TRAINING"] == f"{root}/input/data/training"
    assert layout.seen("/opt/ml/input/config/hyperparameters.json") == f"{root}/input/config/hyperparameters.json"
    assert layout.on_host("/opt/ml/processing/x") == tmp_path / "ml" / "processing/x"


def test_a_custom_image_gets_no_toolkit_variables(tmp_path):
    job = training({"epochs": "4"})
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", gpus=[])
    assert not [k for k in layout.env if k.startswith("SM_")]
    assert layout.env["CUDA_VISIBLE_DEVICES"] == ""      # an instance without GPUs sees none
    assert layout.env["TRAINING_JOB_NAME"] == "fit-1"
    assert layout.workdir == str(layout.ml_root)


def test_a_checkpoint_directory_is_created(tmp_path):
    job = training(CheckpointConfig={"S3Uri": "s3://b/ck"})
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml")
    assert (layout.ml_root / "checkpoints").is_dir()


def test_processing_tree_for_two_instances(tmp_path):
    request = {
        "ProcessingJobName": "prep-1",
        "AppSpecification": {"ImageUri": "x/sagemaker-scikit-learn:1.2-1", "ContainerEntrypoint": ["python3",
                             "/opt/ml/processing/input/code/prep.py"]},
        "ProcessingInputs": [{"InputName": "code", "S3Input": {
            "S3Uri": "s3://b/code/prep.py", "LocalPath": "/opt/ml/processing/input/code", "S3DataType": "S3Prefix",
            "S3InputMode": "File"}}],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": "s3://b/out", "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.xlarge",
                                                  "VolumeSizeInGB": 30}},
        "RoleArn": "arn:aws:iam::000000000000:role/r",
        "Environment": {"STAGE": "test"},
        "Tags": [{"Key": "k", "Value": "v"}],
    }
    job = JobRecord("ProcessingJob", "prep-1", PROCESSING_ARN, request, "InProgress", None, [], 0.0, 0.0)
    for host in ("algo-1", "algo-2"):
        layout = contract.build(job.kind, job, host, ["algo-1", "algo-2"], tmp_path / host / "ml")
        config = layout.ml_root / "config"
        echoed = read(config / "processingjobconfig.json")
        assert echoed["ProcessingJobArn"] == PROCESSING_ARN
        assert echoed["ProcessingJobName"] == "prep-1"
        assert echoed["AppSpecification"] == request["AppSpecification"]
        assert echoed["ProcessingInputs"] == request["ProcessingInputs"]
        assert "Tags" not in echoed
        assert read(config / "resourceconfig.json") == {"current_host": host, "hosts": ["algo-1", "algo-2"]}
        assert (layout.ml_root / "processing/input/code").is_dir()
        assert (layout.ml_root / "processing/output").is_dir()
        assert layout.env["STAGE"] == "test"
        assert "TRAINING_JOB_NAME" not in layout.env


def test_instance_shape():
    assert contract.instance_shape("TrainingJob", training(count=3).request) == ("ml.g5.xlarge", 3)
    grouped = {"ResourceConfig": {"InstanceGroups": [
        {"InstanceGroupName": "a", "InstanceType": "ml.m5.large", "InstanceCount": 2},
        {"InstanceGroupName": "b", "InstanceType": "ml.c5.xlarge", "InstanceCount": 1}]}}
    assert contract.instance_shape("TrainingJob", grouped) == ("ml.m5.large", 3)
    assert contract.instance_shape("ProcessingJob", {"ProcessingResources": {"ClusterConfig": {
        "InstanceType": "ml.t3.medium", "InstanceCount": 1}}}) == ("ml.t3.medium", 1)
