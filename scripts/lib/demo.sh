#!/bin/bash
# Run by scripts/run inside the sandbox (systemd, the system bus and polkitd up, this build
# installed): loads the bundled busybox image into condenser and runs a container from it.
set -euo pipefail
images=$1
# The sandbox's /var is an overlay, which cannot hold the upper directories of the containers'
# own overlays: condenser's state goes on a tmpfs, gone with the sandbox.
mkdir -p /var/lib/raind
mount -t tmpfs raind-demo /var/lib/raind

echo "+ raind load < busybox.tar"
tar -C "$images" -cf - oci-layout index.json blobs | raind load
tty=()
[ -t 0 ] && [ -t 1 ] && tty=(-t)
echo "+ raind run --rm busybox ..."
raind run --rm "${tty[@]}" --hostname raind busybox \
    sh -c 'echo hello from raind; echo "hostname: $(hostname), pid: $$, user: $(id -un)"'
echo "+ raind ps -a"
raind ps -a
systemctl stop condenser.service
umount /var/lib/raind
