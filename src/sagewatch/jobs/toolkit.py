"""The SageMaker training toolkit's conventions, for script mode: what it reads from the
hyperparameters, how it turns them into the user script's arguments, and the SM_* variables it
sets (reference §3.2; aws/sagemaker-training-toolkit ``environment.py``, ``mapping.py``,
``params.py``, ``process.py``).

A framework image (PyTorch, TensorFlow, scikit-learn, …) runs the toolkit, which runs the user's
``sagemaker_program`` with ``sagemaker_submit_directory`` unpacked in /opt/ml/code. sagewatch does
what the toolkit would do, with the host's Python in place of the image's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# params.py: SAGEMAKER_PREFIX and SAGEMAKER_HYPERPARAMETERS — hyperparameters the toolkit keeps
# for itself; the rest are the user's (script arguments, SM_HP_*).
SAGEMAKER_PREFIX = "sagemaker_"
PROGRAM = "sagemaker_program"
SUBMIT_DIRECTORY = "sagemaker_submit_directory"
LOG_LEVEL = "sagemaker_container_log_level"
SAGEMAKER_HYPERPARAMETERS = (
    PROGRAM, SUBMIT_DIRECTORY, "sagemaker_enable_cloudwatch_metrics", "sagemaker_region",
    LOG_LEVEL, "sagemaker_job_name", "default_user_module_name", "_tuning_objective_metric",
    "sagemaker_s3_output",
)
# environment.py: the group a homogeneous cluster's hosts are in.
HOMOGENEOUS_GROUP = "homogeneousCluster"
DEFAULT_LOG_LEVEL = 20  # logging.INFO, environment.py's default


def decode(value):
    """environment.py read_hyperparameters: each value is JSON if it parses, else the raw string
    (the Python SDK JSON-encodes every value: '"train.py"', '4')."""
    try:
        return json.loads(value)
    except (ValueError, TypeError):
        return value


def decoded_hyperparameters(request: dict) -> dict:
    return {key: decode(value) for key, value in (request.get("HyperParameters") or {}).items()}


@dataclass(frozen=True)
class ScriptMode:
    program: str                       # sagemaker_program, decoded: "train.py"
    submit_directory: str | None       # sagemaker_submit_directory, decoded: s3://…/sourcedir.tar.gz


def script_mode(request: dict) -> ScriptMode | None:
    """The script a CreateTrainingJob request runs in script mode, or None (no sagemaker_program)."""
    hyperparameters = decoded_hyperparameters(request)
    program = hyperparameters.get(PROGRAM)
    if program in (None, ""):
        return None
    directory = hyperparameters.get(SUBMIT_DIRECTORY)
    return ScriptMode(str(program), None if directory in (None, "") else str(directory))


def user_hyperparameters(hyperparameters: dict) -> dict:
    """environment.py: split_by_criteria(keys=SAGEMAKER_HYPERPARAMETERS, prefix="sagemaker_")."""
    return {k: v for k, v in hyperparameters.items()
            if k not in SAGEMAKER_HYPERPARAMETERS and not k.startswith(SAGEMAKER_PREFIX)}


def framework_parameters(hyperparameters: dict) -> dict:
    return {k: v for k, v in hyperparameters.items()
            if k.startswith(SAGEMAKER_PREFIX) and k not in SAGEMAKER_HYPERPARAMETERS}


def _text(value) -> str:
    # mapping.py _decode: None -> "", everything else str() (so True -> "True").
    return "" if value is None else str(value)


def to_cmd_args(mapping: dict) -> list[str]:
    """mapping.py to_cmd_args: sorted keys, ``--key`` (``-k`` for one letter), then the value;
    a dict value becomes ``k=v,k2=v2``."""
    args = []
    for key in sorted(mapping):
        name = _text(key)
        args.append(("--%s" % name if len(name) > 1 else "-%s" % name) if name else "")
        value = mapping[key]
        if hasattr(value, "items"):
            args.append(",".join("%s=%s" % (k, v) for k, v in sorted(value.items())))
        else:
            args.append(_text(value))
    return args


def _env_value(value) -> str:
    # mapping.py to_env_vars format_value.
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def program_command(program: str, args: list[str], python: str) -> list[str]:
    """process.py ProcessRunner._create_command: a .py program runs with Python; anything else as
    ``/bin/sh -c "./<program> <args>"`` (the toolkit's command and shell entry points)."""
    if program.endswith(".py"):
        return [python, program, *args]
    return ["/bin/sh", "-c", "./%s %s" % (program, " ".join(args))]


def sm_variables(*, request: dict, job_name: str, host: str, hosts: list[str], instance_type: str,
                 resource_config: dict, input_data_config: dict, opt_ml: str, num_cpus: int,
                 num_gpus: int) -> dict[str, str]:
    """environment.py Environment.to_env_vars, for the instance that sees its tree at ``opt_ml``."""
    hyperparameters = decoded_hyperparameters(request)
    user = user_hyperparameters(hyperparameters)
    script = script_mode(request)
    program = script.program if script else None
    module_name = program[:-3] if program and program.endswith(".py") else program
    code_dir = f"{opt_ml}/code"
    channels = {name: f"{opt_ml}/input/data/{name}" for name in input_data_config}
    groups = resource_config.get("instance_groups") or []
    env = {
        "hosts": hosts,
        "network_interface_name": resource_config.get("network_interface_name", "eth0"),
        "hps": user,
        "user_entry_point": program,
        "framework_params": framework_parameters(hyperparameters),
        "resource_config": resource_config,
        "input_data_config": input_data_config,
        "output_data_dir": f"{opt_ml}/output/data",
        "channels": sorted(channels),
        "current_host": host,
        "current_instance_type": instance_type,
        "current_instance_group": resource_config.get("current_group_name", HOMOGENEOUS_GROUP),
        "current_instance_group_hosts": next(
            (g["hosts"] for g in groups if g.get("instance_group_name") == resource_config.get("current_group_name")),
            hosts),
        "instance_groups": [g["instance_group_name"] for g in groups],
        "instance_groups_dict": {g["instance_group_name"]: g for g in groups},
        "distribution_instance_groups": [],
        "is_hetero": len(groups) > 1,
        "module_name": module_name,
        "log_level": hyperparameters.get(LOG_LEVEL, DEFAULT_LOG_LEVEL),
        "framework_module": None,
        "input_dir": f"{opt_ml}/input",
        "input_config_dir": f"{opt_ml}/input/config",
        "output_dir": f"{opt_ml}/output",
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "num_neurons": 0,
        "model_dir": f"{opt_ml}/model",
        # environment.py: module_dir is the submit directory as given (an S3 URI), else code_dir.
        "module_dir": script.submit_directory if script and script.submit_directory else code_dir,
        "user_args": to_cmd_args(user),
        "output_intermediate_dir": f"{opt_ml}/output/intermediate",
    }
    env["training_env"] = {
        "additional_framework_parameters": env["framework_params"],
        "channel_input_dirs": channels,
        "current_host": host,
        "current_instance_group": env["current_instance_group"],
        "current_instance_group_hosts": env["current_instance_group_hosts"],
        "current_instance_type": instance_type,
        "distribution_hosts": [],
        "distribution_instance_groups": [],
        "framework_module": None,
        "hosts": hosts,
        "hyperparameters": user,
        "input_config_dir": env["input_config_dir"],
        "input_data_config": input_data_config,
        "input_dir": env["input_dir"],
        "instance_groups": env["instance_groups"],
        "instance_groups_dict": env["instance_groups_dict"],
        "is_hetero": env["is_hetero"],
        "is_master": host == hosts[0],
        "is_modelparallel_enabled": None,
        "is_smddpmprun_installed": False,
        "job_name": job_name,
        "log_level": env["log_level"],
        "master_hostname": hosts[0],
        "model_dir": env["model_dir"],
        "module_dir": env["module_dir"],
        "module_name": module_name,
        "network_interface_name": env["network_interface_name"],
        "num_cpus": num_cpus,
        "num_gpus": num_gpus,
        "num_neurons": 0,
        "output_data_dir": env["output_data_dir"],
        "output_dir": env["output_dir"],
        "output_intermediate_dir": env["output_intermediate_dir"],
        "resource_config": resource_config,
        "user_entry_point": program,
    }
    for name, path in channels.items():
        env["channel_%s" % name] = path
    for key, value in user.items():
        env["hp_%s" % key] = value
    variables = {"SM_%s" % str(key).upper(): _env_value(value) for key, value in env.items()}
    # environment.py also exports these for the processes it starts.
    variables["CURRENT_HOST"] = host
    return variables
