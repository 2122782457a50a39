"""Running SageMaker jobs on this machine.

``contract`` builds each instance's /opt/ml tree and environment (the SageMaker container
contract), ``images`` decides what command an image runs as, ``data`` moves channels, inputs and
outputs between S3 (or file://) and /opt/ml, ``capacity`` hands out this machine's CPUs, memory and
GPUs in submission order, ``runners`` start and watch instances (through the agent), and
``controller`` drives a job from InProgress to its end.

Kept free of imports: ``script_mode`` runs inside every script-mode instance, and the agent starts
next to it; neither may pay for what the server needs.
"""
