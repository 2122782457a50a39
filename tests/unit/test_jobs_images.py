"""Image resolution: each rule, the ClientError of an image that cannot run, and the commands it
produces — run for real (script mode's failure file, a private /opt/ml per instance)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sagewatch.config import JobSettings
from sagewatch.jobs import contract, images, namespace
from sagewatch.store.jobs import JobRecord

PYTORCH = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310"


def training(image=PYTORCH, hyperparameters=None, **spec) -> JobRecord:
    request = {"TrainingJobName": "img-1",
               "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File", **spec},
               "HyperParameters": hyperparameters or {},
               "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}}
    return JobRecord("TrainingJob", "img-1", "arn:aws:sagemaker:us-east-1:000000000000:training-job/img-1",
                     request, "InProgress", "Starting", [], 0.0, 0.0)


def processing(image, entrypoint=None, arguments=None) -> JobRecord:
    app = {"ImageUri": image}
    if entrypoint:
        app["ContainerEntrypoint"] = entrypoint
    if arguments:
        app["ContainerArguments"] = arguments
    request = {"ProcessingJobName": "p-1", "AppSpecification": app,
               "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1,
                                                         "VolumeSizeInGB": 1}}}
    return JobRecord("ProcessingJob", "p-1", "arn:aws:sagemaker:us-east-1:000000000000:processing-job/p-1",
                     request, "InProgress", None, [], 0.0, 0.0)


def settings(**more) -> JobSettings:
    return JobSettings(private_opt_ml="false", **more)


def run(resolved, layout, timeout=60):
    return subprocess.run(resolved.command_for(layout), cwd=layout.workdir, env={**os.environ, **layout.env},
                          capture_output=True, text=True, timeout=timeout)


# -- resolution rules ----------------------------------------------------------------------------

def test_docker_combines_entrypoint_and_arguments_as_docker_run_does():
    combine = images.docker_combine
    assert combine(["/bin/algo"], None, None, training=True) == ["/bin/algo", "train"]
    assert combine(["/bin/algo"], None, None, training=False) == ["/bin/algo"]
    assert combine(["/bin/algo"], None, ["--x", "1"], training=True) == ["/bin/algo", "--x", "1"]
    assert combine(["/bin/algo"], ["python3", "t.py"], None, training=True) == ["python3", "t.py"]
    assert combine(["/bin/algo"], ["python3", "t.py"], ["--x"], training=True) == ["python3", "t.py", "--x"]


def test_an_unknown_image_fails_before_start_with_the_pull_error():
    with pytest.raises(images.ImageError) as caught:
        images.resolve("TrainingJob", training("123.dkr.ecr.us-east-1.amazonaws.com/nope:1").request, settings())
    assert str(caught.value) == ("ClientError: Cannot pull algorithm container. Either the image does "
                                 "not exist or its permissions are incorrect.")
    with pytest.raises(images.ImageError):
        images.resolve("ProcessingJob", processing("registry/unknown:2", ["python3", "x.py"]).request, settings())


def test_script_mode_wins_whatever_the_image():
    job = training("any/registry/custom:latest", {"sagemaker_program": '"train.py"', "epochs": "3"})
    resolved = images.resolve(job.kind, job.request, settings(python="/opt/py/bin/python"))
    assert resolved.mode == "script" and resolved.image is None
    assert resolved.argv == ("/opt/py/bin/python", "train.py", "--epochs", "3")
    assert resolved.script.program == "train.py"


def test_a_mapped_image_runs_its_command_with_train_appended(tmp_path):
    algo = tmp_path / "algo.py"
    algo.write_text("import sys, os\nprint('argv', sys.argv[1:], os.environ['TRAINING_JOB_NAME'])\n")
    job = training("registry.example/my-algo:3")
    mapped = settings(images={"*/my-algo:*": ["python", str(algo)]}, python=sys.executable)
    resolved = images.resolve(job.kind, job.request, mapped)
    assert resolved.mode == "command" and resolved.argv == ("python", str(algo), "train")
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", resolved=resolved)
    command = resolved.command_for(layout)
    assert command[0] == sys.executable                  # python is the configured Python
    finished = run(resolved, layout)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "argv ['train'] img-1"


def test_container_entrypoint_replaces_the_mapped_command(tmp_path):
    job = training("registry.example/my-algo:3", ContainerEntrypoint=["/bin/echo", "custom"],
                   ContainerArguments=["--flag"])
    resolved = images.resolve(job.kind, job.request, settings(images={"*/my-algo:*": ["/bin/false"]}))
    assert resolved.argv == ("/bin/echo", "custom", "--flag")


def test_configured_mappings_come_before_the_built_in_ones():
    job = processing(PYTORCH.replace("2.1-cpu-py310", "x"), arguments=["--a"])
    resolved = images.resolve(job.kind, job.request, settings(images={"*pytorch-training:*": ["/bin/echo"]}))
    assert resolved.argv == ("/bin/echo", "--a")


def test_a_command_that_does_not_exist_fails_before_start():
    job = training("registry.example/my-algo:3")
    with pytest.raises(images.ImageError) as caught:
        images.resolve(job.kind, job.request, settings(images={"*/my-algo:*": "host"}))
    # "host" with no entrypoint: the container would run ``train``, which is not on this PATH.
    assert str(caught.value).startswith("ClientError: ") and '"train"' in str(caught.value)
    with pytest.raises(images.ImageError):
        images.resolve("ProcessingJob", processing("registry.example/my-algo:3").request,
                       settings(images={"*/my-algo:*": "host"}))


def test_sdk_processors_images_run_their_entrypoint_on_the_host(tmp_path):
    # SKLearnProcessor / ScriptProcessor: ContainerEntrypoint ["python3", "/opt/ml/processing/input/code/x.py"].
    job = processing("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
                     ["python3", "/opt/ml/processing/input/code/prep.py"], ["--rows", "3"])
    resolved = images.resolve(job.kind, job.request, settings(python=sys.executable))
    assert resolved.mode == "command"
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", resolved=resolved)
    code = layout.on_host("/opt/ml/processing/input/code/prep.py")
    code.parent.mkdir(parents=True, exist_ok=True)
    code.write_text("import sys\nprint('rows', sys.argv[1:])\n")
    finished = run(resolved, layout)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "rows ['--rows', '3']"


# -- script mode, run for real --------------------------------------------------------------------

def script_job(tmp_path, source: str, private: bool = False, **hyperparameters):
    job = training(hyperparameters={"sagemaker_program": '"train.py"', **hyperparameters})
    resolved = images.resolve(job.kind, job.request, JobSettings(private_opt_ml="auto" if private else "false",
                                                                 python=sys.executable))
    layout = contract.build(job.kind, job, "algo-1", ["algo-1"], tmp_path / "ml", resolved=resolved)
    (layout.code_dir / "train.py").write_text(source)
    return resolved, layout


def test_a_script_runs_as_python_would_run_it(tmp_path):
    resolved, layout = script_job(tmp_path, (
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv, 'name': __name__, 'cwd': os.getcwd(), 'path0': sys.path[0],\n"
        "                  'model': os.environ['SM_MODEL_DIR']}))\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('ok')\n"), epochs="2")
    finished = run(resolved, layout)
    assert finished.returncode == 0, finished.stderr
    seen = json.loads(finished.stdout)
    assert seen["argv"] == ["train.py", "--epochs", "2"] and seen["name"] == "__main__"
    assert seen["cwd"] == str(layout.code_dir) == seen["path0"]
    assert (layout.ml_root / "model/model.txt").read_text() == "ok"
    assert (layout.ml_root / "output/success").exists()
    assert not (layout.ml_root / "output/failure").exists()


def test_a_failing_script_writes_the_toolkits_failure_file(tmp_path):
    resolved, layout = script_job(tmp_path, "print('before')\nraise ValueError('bad input: 42')\n", epochs="2")
    finished = run(resolved, layout)
    assert finished.returncode == 1
    assert finished.stdout == "before\n"
    assert finished.stderr.startswith("Traceback (most recent call last):\n  File \"train.py\", line 2")
    assert finished.stderr.rstrip().endswith("ValueError: bad input: 42")
    assert (layout.ml_root / "output/failure").read_text() == (
        'ExecuteUserScriptError:\nExitCode 1\nErrorMessage "ValueError: bad input: 42"\n'
        f'Command "{sys.executable} train.py --epochs 2"')


def test_an_exit_status_is_kept_and_a_scripts_own_failure_file_wins(tmp_path):
    resolved, layout = script_job(tmp_path, (
        "import os, sys\n"
        "open(os.path.join(os.environ['SM_OUTPUT_DIR'], 'failure'), 'w').write('my own reason')\n"
        "sys.exit(3)\n"))
    assert run(resolved, layout).returncode == 3
    assert (layout.ml_root / "output/failure").read_text() == "my own reason"


def test_private_opt_ml_gives_each_instance_its_own(tmp_path):
    mount = namespace.detect()
    job = training(hyperparameters={"sagemaker_program": '"train.py"'},)
    seen = []
    for host in ("algo-1", "algo-2"):
        resolved = images.resolve(job.kind, job.request, JobSettings(python=sys.executable))
        layout = contract.build(job.kind, job, host, ["algo-1", "algo-2"], tmp_path / host / "ml", resolved=resolved)
        (layout.code_dir / "train.py").write_text(
            "import json, os\n"
            "base = os.environ.get('SAGEMAKER_BASE_DIR', '/opt/ml')\n"
            "print(json.load(open(base + '/input/config/resourceconfig.json'))['current_host'], base)\n")
        finished = run(resolved, layout)
        assert finished.returncode == 0, finished.stderr
        seen.append(finished.stdout.split())
    assert [host for host, _ in seen] == ["algo-1", "algo-2"]
    if mount is not None:
        # Both read the absolute /opt/ml, and each found its own tree there.
        assert [base for _, base in seen] == ["/opt/ml", "/opt/ml"]
    else:
        assert [base for _, base in seen] == [str(tmp_path / h / "ml") for h in ("algo-1", "algo-2")]


SCRIPT_MODE = {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"file:///code"'}


@pytest.mark.parametrize("hyperparameters", [{}, SCRIPT_MODE])
def test_docker_runner_without_an_engine_fails_an_unmapped_image_as_the_servers_fault(hyperparameters):
    # /bin/false stands in for a docker CLI whose `docker info` finds no engine.
    with pytest.raises(images.ImageError) as raised:
        images.resolve("TrainingJob", training(hyperparameters=hyperparameters).request,
                       settings(runner="docker", docker="/bin/false"))
    assert raised.value.failure_reason == images.NO_ENGINE


def test_docker_runner_resolves_an_image_the_operator_mapped_as_the_process_runner_does():
    mapped = settings(runner="docker", docker="/bin/false", images={"*pytorch-training:*": "host"})
    assert images.resolve("TrainingJob", training(hyperparameters=SCRIPT_MODE).request, mapped).mode == "script"


def test_the_process_runner_still_runs_framework_images_on_the_host():
    assert images.resolve("TrainingJob", training(hyperparameters=SCRIPT_MODE).request, settings()).mode == "script"
