#!/bin/sh
# Build, without any image registry, the images the docker runner's tests run:
#
#   sagewatch-test/base:bookworm   Debian 12 (minbase) + python3, from a debootstrap root file
#                                  system imported with `docker import`
#   sagewatch-test/train:latest    base + /usr/local/bin/train, a SageMaker training entry point
#                                  (AWS runs `docker run image train`, reference §3.1)
#   sagewatch-test/process:latest  base + ENTRYPOINT ["python3", "/opt/program/process.py"]
#                                  (processing runs the image's own ENTRYPOINT, reference §3.3)
#
# Needs a running engine (tests/docker/engine.sh start) and Debian's archive (the only registry
# reachable here). The root file system is cached under $CACHE, so a rebuild takes seconds.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SAGEWATCH_DOCKER_CACHE:-/var/cache/sagewatch-docker}
ROOTFS=$CACHE/bookworm-rootfs
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=sagewatch-test/base:bookworm

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
    if [ ! -f "$CACHE/bookworm-rootfs.tar" ]; then
        mkdir -p "$CACHE"
        rm -rf "$ROOTFS"
        # minbase: essential packages + apt; python3 pulls the whole standard library (json,
        # tarfile ...), which training scripts use.
        debootstrap --variant=minbase --include=python3 bookworm "$ROOTFS" "$MIRROR"
        # Trim what an image never needs: package lists and caches, docs, man pages.
        rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
            "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
        tar -C "$ROOTFS" --numeric-owner -cf "$CACHE/bookworm-rootfs.tar.tmp" .
        mv "$CACHE/bookworm-rootfs.tar.tmp" "$CACHE/bookworm-rootfs.tar"
        rm -rf "$ROOTFS"
    fi
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' \
        "$CACHE/bookworm-rootfs.tar" "$BASE"
fi

# No base image is pulled: FROM names the imported image, and the build context is tests/docker.
docker build -q -t sagewatch-test/train:latest -f "$HERE/train.Dockerfile" "$HERE"
docker build -q -t sagewatch-test/process:latest -f "$HERE/process.Dockerfile" "$HERE"
docker image ls 'sagewatch-test/*'
