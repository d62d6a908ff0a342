#!/bin/sh
# Runs after the package is unpacked: the service's user, its data
# directory, and the service enabled and (re)started.
set -e

if ! getent group apiary >/dev/null 2>&1; then
	addgroup --system apiary >/dev/null
fi
if ! getent passwd apiary >/dev/null 2>&1; then
	adduser --system --ingroup apiary --home /var/lib/apiary --no-create-home \
		--gecos "Apiary beehive telemetry" --shell /usr/sbin/nologin apiary >/dev/null
fi
mkdir -p /var/lib/apiary
chown apiary:apiary /var/lib/apiary
chmod 0750 /var/lib/apiary
chgrp apiary /etc/apiary/apiary.toml 2>/dev/null || true

# Only where systemd runs (not in a container or a chroot).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	systemctl enable apiary.service >/dev/null 2>&1 || true
	systemctl restart apiary.service || true
fi
exit 0
