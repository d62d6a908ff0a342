#!/bin/sh
# remove keeps the data and the configuration; purge deletes them and the
# service's user.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
	rm -rf /var/lib/apiary
	rm -rf /etc/apiary
	if getent passwd apiary >/dev/null 2>&1; then
		deluser --system apiary >/dev/null 2>&1 || true
	fi
	if getent group apiary >/dev/null 2>&1; then
		delgroup --system apiary >/dev/null 2>&1 || true
	fi
fi
exit 0
