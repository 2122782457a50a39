#!/bin/sh
# Start or stop a Docker engine for the docker runner's tests, on a machine where none runs
# (a developer's sandbox: root, no systemd, Debian 12). See docs/docker.md for what was tried.
#
#   tests/docker/engine.sh install   apt-get install docker.io debootstrap (Debian's packages)
#   tests/docker/engine.sh start     start dockerd in the background; waits until it answers
#   tests/docker/engine.sh stop      stop the dockerd this script started
#   tests/docker/engine.sh status    exit 0 when the engine answers
#
# The engine is started so that it changes nothing on the host's network: no iptables rules,
# no docker0 bridge, no ip_forward change. Containers therefore have no "bridge" network; the
# docker runner runs them with --network host (the server is on this machine's loopback).
# Its state lives under SAGEWATCH_DOCKER_ROOT (default /var/lib/sagewatch-docker) and it listens
# on the default socket /var/run/docker.sock, so `docker` and the runner need no DOCKER_HOST.
set -eu

ROOT=${SAGEWATCH_DOCKER_ROOT:-/var/lib/sagewatch-docker}
RUN=${SAGEWATCH_DOCKER_RUN:-/run/sagewatch-docker}
SOCK=/var/run/docker.sock
PIDFILE=$RUN/dockerd.pid
LOG=$RUN/dockerd.log
# The Debian client (/usr/bin/docker, API 1.41) matches the Debian daemon; a newer static client
# elsewhere on PATH negotiates down and works too.
DOCKER=${DOCKER:-docker}

answers() { $DOCKER -H unix://$SOCK version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case "${1:-}" in
install)
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # --no-install-recommends: not apparmor, git, xz-utils, cgroupfs-mount (none is needed here).
    apt-get install -y -q --no-install-recommends docker.io debootstrap
    ;;
start)
    if answers; then echo "engine already answers on $SOCK"; exit 0; fi
    mkdir -p "$ROOT" "$RUN"
    # setsid: the engine outlives this shell and the test session that started it.
    setsid dockerd \
        --data-root "$ROOT" --exec-root "$RUN/exec" --pidfile "$PIDFILE" \
        -H unix://$SOCK \
        --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
        --storage-driver=overlay2 \
        </dev/null >"$LOG" 2>&1 &
    i=0
    while ! answers; do
        i=$((i + 1))
        if [ $i -gt 60 ]; then
            echo "dockerd did not answer within 30 s; last lines of $LOG:" >&2
            tail -20 "$LOG" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "engine $($DOCKER version --format '{{.Server.Version}}') answers on $SOCK (log $LOG)"
    ;;
stop)
    if [ -f "$PIDFILE" ]; then
        pid=$(cat "$PIDFILE")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null; do
            i=$((i + 1)); [ $i -gt 60 ] && { kill -9 "$pid" 2>/dev/null || true; break; }
            sleep 0.5
        done
        echo "dockerd $pid stopped"
        # dockerd bind-mounts the host's own network namespace at exec-root/netns/default and
        # leaves it mounted when it exits (seen with 20.10.24): unmount it, so a stopped engine
        # leaves no mount behind.
        if grep -q " $RUN/exec/netns/default " /proc/self/mountinfo; then
            umount "$RUN/exec/netns/default"
        fi
    else
        echo "no dockerd started by this script ($PIDFILE absent)"
    fi
    ;;
status)
    answers
    ;;
*)
    echo "usage: $0 install|start|stop|status" >&2
    exit 2
    ;;
esac
