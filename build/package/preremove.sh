#!/bin/sh
# Runs before the files are removed (and before an upgrade replaces them).
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	systemctl stop apiary.service >/dev/null 2>&1 || true
	systemctl disable apiary.service >/dev/null 2>&1 || true
fi
exit 0
