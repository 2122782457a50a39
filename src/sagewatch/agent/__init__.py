"""The sagewatch agent: runs one instance's command and ships what it prints and uses.

    python -m sagewatch.agent --endpoint URL --region R \
        --log-group /aws/sagemaker/TrainingJobs --log-stream <job>/algo-1-<epoch> \
        --metric-namespace /aws/sagemaker/TrainingJobs --host <job>/algo-1 \
        --state-dir DIR [--stop-grace SECONDS] [--gpus 0,1] [--disk-path DIR] -- <command ...>

Every runner starts its instances through it, so there is one capture path. The parts, one
concept a module:

- ``process``   the command in its own process group; stop = SIGTERM, SIGKILL after a grace;
- ``reader``    the command's output pipe, read with few wake-ups;
- ``capture``   bytes to log events: lines, progress bars (``\\r``), long lines;
- ``spool``     events waiting for delivery, in memory then on disk, in order;
- ``telemetry`` CPU, memory, disk and GPU use of the process tree, every second;
- ``wire``      SigV4-signed AWS JSON requests over HTTP (no botocore: it starts fast);
- ``delivery``  PutLogEvents and PutMetricData, batched, retried until acknowledged;
- ``state``     agent.json and exit.json, what the job controller reads.

It imports neither botocore nor numpy; psutil (and nvidia-ml-py for GPUs) load in the sampling
thread once the command runs.
"""
