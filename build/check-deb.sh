#!/bin/sh
# Installs a .deb on this (Debian) machine and checks it: the files, the
# conffile, the service's user and data directory, the unit; then remove
# (data kept) and purge (data gone). Needs root. Used by .ci/run.
#
#   build/check-deb.sh dist/apiary_0.1.0_amd64.deb
set -eu
deb=${1:?usage: build/check-deb.sh FILE.deb}
fail() { echo "check-deb: $*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
command -v adduser >/dev/null 2>&1 || apt-get install -y -qq adduser >/dev/null
dpkg -i "$deb"

test -x /usr/bin/apiary || fail "/usr/bin/apiary missing"
/usr/bin/apiary version
test -f /etc/apiary/apiary.toml || fail "/etc/apiary/apiary.toml missing"
dpkg-query -W -f='${Conffiles}\n' apiary | grep -q '/etc/apiary/apiary.toml' || fail "apiary.toml is not a conffile"
test -f /lib/systemd/system/apiary.service || fail "systemd unit missing"
getent passwd apiary >/dev/null || fail "no user apiary"
[ "$(stat -c %U /var/lib/apiary)" = apiary ] || fail "/var/lib/apiary is not owned by apiary"
grep -q '^data_dir = "/var/lib/apiary"' /etc/apiary/apiary.toml || fail "packaged config does not use /var/lib/apiary"
# The service's user can read its configuration, and it is valid.
runuser -u apiary -- /usr/bin/apiary config --config /etc/apiary/apiary.toml >/dev/null || fail "apiary cannot read its config"
for key in ProtectSystem=strict ReadWritePaths=/var/lib/apiary NoNewPrivileges=yes User=apiary Restart=on-failure; do
	grep -q "^$key" /lib/systemd/system/apiary.service || fail "unit lacks $key"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify /lib/systemd/system/apiary.service || fail "systemd-analyze verify"
else
	echo "check-deb: systemd-analyze not available; unit not verified" >&2
fi

# A local change to the conffile survives a reinstall.
echo '# local change' >>/etc/apiary/apiary.toml
dpkg -i "$deb"
grep -q '# local change' /etc/apiary/apiary.toml || fail "reinstall overwrote the conffile"

touch /var/lib/apiary/keep-me
dpkg -r apiary
test ! -e /usr/bin/apiary || fail "remove left the binary"
test -e /var/lib/apiary/keep-me || fail "remove deleted the data"
test -e /etc/apiary/apiary.toml || fail "remove deleted the configuration"
dpkg -P apiary
test ! -e /var/lib/apiary || fail "purge kept the data"
test ! -e /etc/apiary || fail "purge kept /etc/apiary"
echo "check-deb: $deb ok"
