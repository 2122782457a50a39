"""A private /opt/ml for each instance run on this machine, where the machine allows it.

SageMaker containers find everything under the absolute path /opt/ml (reference §3.1: config,
channels, model, output; §3.3: /opt/ml/processing/…), and many scripts hard-code it. On this
machine several instances run at once, each with its own tree (``ml_root``). Where Linux lets us
create a mount namespace — as root, or as any user through an unprivileged user namespace
(``unshare --mount --map-root-user``) — the instance's command starts in its own namespace with its
``ml_root`` bind-mounted on /opt/ml, so two instances of one job see two different /opt/ml and the
host's /opt/ml (an empty mount point) is never written.

Where it cannot (no ``unshare``, user namespaces disabled, /opt/ml neither present nor creatable),
instances see their tree at its host path: the environment points there (SAGEMAKER_BASE_DIR, SM_*
paths, jobs/contract.py) and /opt/ml/… in the command line is rewritten, but a script that opens
"/opt/ml/…" by itself will not find it. docs/jobs.md says which works where.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

OPT_ML = "/opt/ml"

# $1 is the instance's ml_root, $2 the directory to start in; the rest is the command. ``exec`` so
# the command keeps the process (and process group) the agent started: its signals reach it.
_MOUNT_AND_EXEC = 'mount --bind "$1" /opt/ml && cd "$2" && shift 2 && exec "$@"'


@dataclass(frozen=True)
class PrivateMount:
    """How to start a command in a namespace of its own (the ``unshare`` flags that worked)."""

    unshare: tuple[str, ...]

    def wrap(self, ml_root: Path, workdir: str, command: list[str]) -> list[str]:
        """``command`` run with ``ml_root`` on /opt/ml, starting in ``workdir`` (an /opt/ml path)."""
        return [*self.unshare, "--", "/bin/sh", "-c", _MOUNT_AND_EXEC, "sagewatch-instance",
                str(ml_root), workdir, *command]


def _opt_ml_ready() -> bool:
    """/opt/ml must exist to be a mount point; root may create it (SageMaker reserves the path)."""
    if os.path.isdir(OPT_ML):
        return True
    try:
        os.makedirs(OPT_ML, exist_ok=True)
    except OSError:
        return False
    return True


def _works(flags: tuple[str, ...]) -> bool:
    with tempfile.TemporaryDirectory(prefix="sagewatch-ns-") as probe:
        marker = Path(probe) / "seen"
        marker.write_text("")
        mount = PrivateMount(flags)
        command = mount.wrap(Path(probe), OPT_ML, ["/bin/sh", "-c", f"test -e {OPT_ML}/seen"])
        try:
            return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


@functools.cache
def detect() -> PrivateMount | None:
    """The way this machine gives an instance a private /opt/ml, or None. Probed once."""
    unshare = shutil.which("unshare")
    if unshare is None or not _opt_ml_ready():
        return None
    candidates = [(unshare, "--mount")] if os.geteuid() == 0 else []
    # Without root: a user namespace whose root may mount (util-linux unshare(1); the mount
    # propagation of the new namespace is private by default, so nothing leaks to the host).
    candidates.append((unshare, "--mount", "--map-root-user"))
    for flags in candidates:
        if _works(flags):
            return PrivateMount(flags)
    return None


def private_mount(setting: str | bool = "auto") -> PrivateMount | None:
    """The configured choice (``jobs.private_opt_ml``: auto, true, false) applied to ``detect``."""
    if setting is False or str(setting).lower() in ("false", "no", "off", "0"):
        return None
    found = detect()
    if found is None and (setting is True or str(setting).lower() in ("true", "yes", "on", "1")):
        raise RuntimeError("jobs.private_opt_ml is required, but this machine cannot give an "
                           "instance a private /opt/ml (unshare --mount failed; see docs/jobs.md)")
    return found
