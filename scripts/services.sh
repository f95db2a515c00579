#!/usr/bin/env bash
# services.sh makes sure the services Logbook needs run on this machine:
# PostgreSQL (>= 15) with the pgvector extension, and Redis; and that the web
# UI's browser tests have Debian's headless Chromium and a font. It is
# idempotent: when everything already runs it only checks and exits within a
# second or two.
#
# pgvector is not packaged for Debian 12, so it is built from Debian's source
# package of the next release, using a temporary deb-src entry whose URI is
# read from this machine's own apt sources (no mirror host is written here),
# against the installed server's pg_config.
#
# Environment:
#   PGHOST/PGPORT/PGUSER   where to check PostgreSQL (default 127.0.0.1:5432, postgres)
#   REDIS_HOST/REDIS_PORT  where to check Redis (default 127.0.0.1:6379)
#   PGVECTOR_SUITE         Debian suite to take pgvector's source from (default trixie)
set -euo pipefail

PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
PGVECTOR_SUITE=${PGVECTOR_SUITE:-trixie}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run this script as root"
  SUDO="sudo"
fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -tAc "$1"; }

vector_ok() {
  # CREATE EXTENSION inside a rolled-back transaction: proves the extension
  # loads without leaving anything behind.
  # btree_gin (PostgreSQL's contrib, in Debian's server package) puts org_id
  # first in the chunks' full-text index.
  psql_q "BEGIN; CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS btree_gin; SELECT '[1,2]'::vector <-> '[1,3]'::vector; ROLLBACK;" >/dev/null 2>&1
}

redis_ok() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# --- Chromium (the web UI's browser tests) ----------------------------------
# The browser tests (internal/browsertest) drive Debian's chromium over the
# DevTools protocol (chromedp); it needs no chromium-driver. DejaVu gives
# the pages a font, so text has the same metrics on every machine.
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
missing=()
for p in chromium fonts-dejavu-core; do pkg_installed "$p" || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_install "${missing[@]}"
fi
chromium_version=$(chromium --headless --no-sandbox --version 2>/dev/null) \
  || die "chromium is installed but 'chromium --headless --version' fails"
log "$chromium_version"

# --- Radicale (the calendar connector's CalDAV tests) ------------------------
# Debian's radicale, run as a background process with a config of its own
# (not the packaged systemd service) on 127.0.0.1:5232, with htpasswd
# (plain) auth and storage under /var/lib/logbook-test/radicale. Test users
# (documented in README.md, "Calendars"; local test passwords, not secrets):
#   rep1 / rep1-password   rep2 / rep2-password
# Tests make their own calendar collections (MKCALENDAR) under /rep1/.
RADICALE_HOST=${RADICALE_HOST:-127.0.0.1}
RADICALE_PORT=${RADICALE_PORT:-5232}
RADICALE_DIR=${RADICALE_DIR:-/var/lib/logbook-test/radicale}
radicale_ok() {
  curl -s -o /dev/null -w '%{http_code}' -u rep1:rep1-password -X PROPFIND -H 'Depth: 0' \
    "http://$RADICALE_HOST:$RADICALE_PORT/rep1/" 2>/dev/null | grep -q '^207$'
}
if ! radicale_ok; then
  pkg_installed radicale || apt_install radicale
  $SUDO mkdir -p "$RADICALE_DIR/collections"
  printf 'rep1:rep1-password\nrep2:rep2-password\n' | $SUDO tee "$RADICALE_DIR/users" >/dev/null
  $SUDO tee "$RADICALE_DIR/config" >/dev/null <<RADICALE_CONF
[server]
hosts = $RADICALE_HOST:$RADICALE_PORT
[auth]
type = htpasswd
htpasswd_filename = $RADICALE_DIR/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = $RADICALE_DIR/collections
[logging]
level = warning
RADICALE_CONF
  log "starting radicale on $RADICALE_HOST:$RADICALE_PORT"
  $SUDO setsid nohup radicale --config "$RADICALE_DIR/config" >>"$RADICALE_DIR/radicale.log" 2>&1 < /dev/null &
  for _ in $(seq 1 30); do radicale_ok && break; sleep 0.5; done
  radicale_ok || die "Radicale did not come up on $RADICALE_HOST:$RADICALE_PORT (see $RADICALE_DIR/radicale.log)"
fi
log "Radicale $(radicale --version 2>/dev/null || echo '?') is up on $RADICALE_HOST:$RADICALE_PORT"
# --- Dovecot (the email capture tests) --------------------------------------
# capture/mail's tests sync real mailboxes from Debian's Dovecot, run here as
# an instance of its own: its own config file, base_dir, state_dir and logs
# under $DOVECOT_DIR, so the system's /etc/dovecot is never read or changed
# and Debian's own dovecot service is never started. It listens on loopback
# only: 10143 (IMAP, STARTTLS offered) and 10993 (IMAPS), with a self-signed
# certificate for localhost/127.0.0.1 whose PEM the tests trust
# ($DOVECOT_DIR/cert.pem; internal/testdovecot names the path). Test users
# (passwd-file, maildir storage; test passwords, for this loopback server only):
#   rep@logbook.test    password logbook-test-password
#   other@logbook.test  password logbook-test-password-2
DOVECOT_DIR=${DOVECOT_DIR:-/var/lib/logbook-test/dovecot}
DOVECOT_IMAP_PORT=${DOVECOT_IMAP_PORT:-10143}
DOVECOT_IMAPS_PORT=${DOVECOT_IMAPS_PORT:-10993}
if ! pkg_installed dovecot-imapd; then
  # Installing would start Debian's own dovecot on 143/993: a temporary
  # policy-rc.d refuses service starts during the install (unless the
  # machine already has one).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    apt_install dovecot-imapd || { $SUDO rm -f "$policy"; die "installing dovecot-imapd failed"; }
    $SUDO rm -f "$policy"
  else
    apt_install dovecot-imapd
  fi
fi
imap_ok() { # port, tls(0|1): the server greets, and says goodbye to a LOGOUT
  # (grep reads to the end: under pipefail, grep -q stopping early fails the pipe)
  if [ "$2" -eq 1 ]; then
    printf 'a LOGOUT\r\n' | timeout 5 openssl s_client -connect "127.0.0.1:$1" -quiet -ign_eof 2>/dev/null | grep '^\* OK' >/dev/null
  else
    timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$1"'; printf "a LOGOUT\r\n" >&3; cat <&3' 2>/dev/null | grep '^\* OK' >/dev/null
  fi
}
$SUDO mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/mail"
$SUDO chown mail:mail "$DOVECOT_DIR/mail"
if [ ! -s "$DOVECOT_DIR/cert.pem" ] || [ ! -s "$DOVECOT_DIR/key.pem" ]; then
  log "making Dovecot's self-signed test certificate"
  $SUDO openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$DOVECOT_DIR/key.pem" -out "$DOVECOT_DIR/cert.pem" >/dev/null 2>&1 \
    || die "openssl could not make Dovecot's test certificate"
  $SUDO chmod 600 "$DOVECOT_DIR/key.pem"
  $SUDO chmod 644 "$DOVECOT_DIR/cert.pem"
fi
dovecot_users=$(printf '%s\n' \
  'rep@logbook.test:{PLAIN}logbook-test-password::::::' \
  'other@logbook.test:{PLAIN}logbook-test-password-2::::::')
dovecot_conf=$(cat <<EOF
# Logbook's test Dovecot (scripts/services.sh); not the system's config.
instance_name = logbook-test
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$DOVECOT_DIR/cert.pem
ssl_key = <$DOVECOT_DIR/key.pem
ssl_dh = </usr/share/dovecot/dh.pem
auth_mechanisms = plain login
auth_failure_delay = 0
disable_plaintext_auth = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DOVECOT_DIR/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$DOVECOT_DIR/mail/%d/%n
}
first_valid_uid = 8
mail_location = maildir:~/Maildir
mail_max_userip_connections = 1000
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $DOVECOT_IMAPS_PORT
    ssl = yes
  }
}
EOF
)
dovecot_changed=0
if [ "$(cat "$DOVECOT_DIR/users" 2>/dev/null)" != "$dovecot_users" ]; then
  printf '%s\n' "$dovecot_users" | $SUDO tee "$DOVECOT_DIR/users" >/dev/null
  $SUDO chown root:dovecot "$DOVECOT_DIR/users"
  $SUDO chmod 640 "$DOVECOT_DIR/users"
  dovecot_changed=1
fi
if [ "$(cat "$DOVECOT_DIR/dovecot.conf" 2>/dev/null)" != "$dovecot_conf" ]; then
  printf '%s\n' "$dovecot_conf" | $SUDO tee "$DOVECOT_DIR/dovecot.conf" >/dev/null
  dovecot_changed=1
fi
dovecot_running() {
  local pid
  pid=$(cat "$DOVECOT_DIR/run/master.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}
if dovecot_running && [ "$dovecot_changed" -eq 1 ]; then
  log "restarting the test Dovecot (its configuration changed)"
  $SUDO dovecot -c "$DOVECOT_DIR/dovecot.conf" stop >/dev/null 2>&1 || true
  for _ in $(seq 1 20); do dovecot_running || break; sleep 0.5; done
fi
if ! dovecot_running; then
  log "starting the test Dovecot"
  # Its stdio goes to a file: the daemon keeps stderr open, and would hold
  # the caller's pipe (say `scripts/services.sh | tee`) open for good.
  $SUDO dovecot -c "$DOVECOT_DIR/dovecot.conf" </dev/null >>"$DOVECOT_DIR/start.log" 2>&1 \
    || die "Dovecot did not start: $(tail -n 3 "$DOVECOT_DIR/start.log" 2>/dev/null) (see also $DOVECOT_DIR/dovecot.log)"
fi
for _ in $(seq 1 30); do
  imap_ok "$DOVECOT_IMAP_PORT" 0 && imap_ok "$DOVECOT_IMAPS_PORT" 1 && break
  sleep 0.5
done
imap_ok "$DOVECOT_IMAP_PORT" 0 && imap_ok "$DOVECOT_IMAPS_PORT" 1 \
  || die "the test Dovecot does not answer on 127.0.0.1:$DOVECOT_IMAP_PORT and :$DOVECOT_IMAPS_PORT (see $DOVECOT_DIR/dovecot.log)"
log "Dovecot $(dovecot --version | cut -d' ' -f1) is up (test IMAP on 127.0.0.1:$DOVECOT_IMAP_PORT STARTTLS, :$DOVECOT_IMAPS_PORT TLS)"

# Fast path: everything already runs.
if command -v pg_isready >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
   && pg_ready && vector_ok && redis_ok; then
  log "PostgreSQL with pgvector and Redis are up"
  exit 0
fi

# --- PostgreSQL -------------------------------------------------------------
pg_version() {
  # Highest installed server major version >= 15, if any.
  local v best=""
  for d in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$d" ] || continue
    v=$(basename "$(dirname "$(dirname "$d")")")
    if [ "$v" -ge 15 ] 2>/dev/null && { [ -z "$best" ] || [ "$v" -gt "$best" ]; }; then best=$v; fi
  done
  printf '%s' "$best"
}

PGV=$(pg_version)
if [ -z "$PGV" ]; then
  apt_install postgresql postgresql-client
  PGV=$(pg_version)
  [ -n "$PGV" ] || die "PostgreSQL installed but no server >= 15 found"
fi
log "PostgreSQL $PGV"

if ! pg_ready; then
  if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PGV" '$1==v' | grep -q .; then
    log "creating cluster $PGV/main"
    $SUDO pg_createcluster "$PGV" main >/dev/null
  fi
  cluster=$(pg_lsclusters -h | awk -v v="$PGV" '$1==v {print $2; exit}')
  log "starting cluster $PGV/$cluster"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PGV" "$cluster" start || true
  for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
  pg_ready || die "PostgreSQL did not come up on $PGHOST:$PGPORT"
fi

# The local development and test setup connects as postgres over TCP with
# no password (trust on localhost, as on our machines). A freshly installed
# Debian cluster asks for a password on 127.0.0.1: when the server is this
# machine's own cluster, allow trust for loopback connections only.
if ! psql_q "SELECT 1" >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/"$PGV"/*/pg_hba.conf 2>/dev/null | head -n1 || true)
  if [ -n "$hba" ] && { [ "$PGHOST" = 127.0.0.1 ] || [ "$PGHOST" = localhost ]; } && ! grep -q 'logbook: local trust' "$hba"; then
    log "allowing passwordless loopback connections in $hba (local development and test setup)"
    tmp=$(mktemp)
    { echo "# logbook: local trust for the development and test setup (scripts/services.sh)"
      echo "host all all 127.0.0.1/32 trust"
      echo "host all all ::1/128 trust"
      cat "$hba"; } > "$tmp"
    $SUDO cp "$tmp" "$hba"
    rm -f "$tmp"
    cluster=$(pg_lsclusters -h | awk -v v="$PGV" '$1==v {print $2; exit}')
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$PGV" "$cluster" reload || true
    sleep 1
  fi
  psql_q "SELECT 1" >/dev/null 2>&1 || die "cannot connect as $PGUSER to $PGHOST:$PGPORT (check pg_hba.conf: the tests expect trust auth on localhost)"
fi
psql_q "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 || psql_q "CREATE DATABASE test" >/dev/null

# --- pgvector ---------------------------------------------------------------
ext_dir=$(/usr/lib/postgresql/"$PGV"/bin/pg_config --sharedir 2>/dev/null)/extension
if [ ! -f "$ext_dir/vector.control" ]; then
  if ! apt-cache show "postgresql-$PGV-pgvector" >/dev/null 2>&1 || ! apt_install "postgresql-$PGV-pgvector"; then
    log "building pgvector from Debian's $PGVECTOR_SUITE source package"
    apt_install "postgresql-server-dev-$PGV" build-essential dpkg-dev ca-certificates
    # The URI of the machine's own Debian main archive, from its apt sources
    # (deb822 .sources files or one-line .list files).
    uri=$( { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true;
             grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' || true; } \
           | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)
    [ -n "$uri" ] || die "no Debian archive URI found in the apt sources to fetch pgvector's source from"
    work=$(mktemp -d); chmod 755 "$work"
    srclist=/etc/apt/sources.list.d/logbook-pgvector-src.list
    trap '$SUDO rm -f "$srclist"; rm -rf "$work"' EXIT
    echo "deb-src $uri $PGVECTOR_SUITE main" | $SUDO tee "$srclist" >/dev/null
    $SUDO apt-get update -qq -o Dir::Etc::sourcelist="$srclist" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0 >/dev/null
    (cd "$work" && apt-get source -qq --download-only pgvector >/dev/null && dpkg-source -x --no-check ./*.dsc src >/dev/null)
    $SUDO rm -f "$srclist"
    $SUDO apt-get update -qq >/dev/null || true
    make -s -C "$work/src" PG_CONFIG=/usr/lib/postgresql/"$PGV"/bin/pg_config OPTFLAGS="" >/dev/null
    $SUDO make -s -C "$work/src" PG_CONFIG=/usr/lib/postgresql/"$PGV"/bin/pg_config install >/dev/null
  fi
fi
vector_ok || die "CREATE EXTENSION vector fails on $PGHOST:$PGPORT"
log "pgvector $(psql_q "SELECT default_version FROM pg_available_extensions WHERE name='vector'")"

# --- Redis ------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server redis-tools
fi
if ! redis_ok; then
  log "starting redis-server"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/logbook.log
  for _ in $(seq 1 20); do redis_ok && break; sleep 0.5; done
  redis_ok || die "Redis did not come up on $REDIS_HOST:$REDIS_PORT"
fi
log "PostgreSQL with pgvector and Redis are up"
