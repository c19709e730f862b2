#!/usr/bin/env bash
# Installs, starts, waits for and stops the real servers the tests need, on
# loopback only: PostgreSQL, Cassandra 5.0 and Dovecot (IMAP). install and
# start also install Debian's chromium, which the web pages' browser test
# drives (it is a program the test starts, not a server).
#
#   scripts/services.sh install [names...]   install what is missing (apt, Maven jars, helpers)
#   scripts/services.sh start   [names...]   start and wait until ready (idempotent)
#   scripts/services.sh stop    [names...]   stop (data is kept)
#   scripts/services.sh status  [names...]   exit 0 when all named services run
#   scripts/services.sh clean   [names...]   stop and delete their data
#   scripts/services.sh start-cluster | stop-cluster | clean-cluster
#                                  the 3-node Cassandra cluster (= start cluster, ...)
#   scripts/services.sh stop-node N... | kill-node N... | start-node N...
#                                  stop (SIGTERM), crash (SIGKILL) or start again nodes
#                                  (1-3) of the cluster; start-node waits until they
#                                  answer CQL and every node sees every other UP
#
# names: postgres cassandra dovecot (none = all three), and cluster: a
# Cassandra cluster of BROKERSYNC_CASSANDRA_NODES nodes (default 3) on
# 127.0.0.1, 127.0.0.2, ... with the same ports, beside the single node, for
# `make test-cluster` (never part of the default set).
# After start/stop, <rundir>/env holds `export NAME=value` lines for the running
# services; tests source it.
#
# Environment:
#   BROKERSYNC_RUN_DIR        state, data and logs (default: <repo>/.run)
#   BROKERSYNC_CACHE_DIR      downloaded Cassandra jars (default: ~/.cache/brokersync)
#   BROKERSYNC_CASSANDRA_VERSION   default 5.0.8
#   BROKERSYNC_CASSANDRA_HEAP      default 1g
#   BROKERSYNC_CASSANDRA_JMX_PORT  local JMX port (default: none, JMX off)
#   BROKERSYNC_CASSANDRA_JVM_OPTS  extra JVM options, space-separated
#   BROKERSYNC_CASSANDRA_NODES        cluster size (default 3, at most 9)
#   BROKERSYNC_CLUSTER_CASSANDRA_HEAP heap of each cluster node (default 512m)
#   BROKERSYNC_CLUSTER_CASSANDRA_PORT (29042, CQL), BROKERSYNC_CLUSTER_CASSANDRA_STORAGE_PORT
#     (27000, and +1): the cluster's ports, the same on each node's address
#   BROKERSYNC_START_TIMEOUT       seconds to wait for Cassandra (default 240)
#   BROKERSYNC_POSTGRES_PORT (25432), BROKERSYNC_CASSANDRA_PORT (19042, CQL),
#   BROKERSYNC_CASSANDRA_STORAGE_PORT (17000, and +1), BROKERSYNC_IMAP_PORT (10143):
#     only to run a second set beside the default one; the env file follows them.
set -euo pipefail
umask 022

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
SELF="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"

RUN_DIR=${BROKERSYNC_RUN_DIR:-$REPO_ROOT/.run}
mkdir -p "$RUN_DIR"
RUN_DIR=$(cd "$RUN_DIR" && pwd -P)
CACHE_DIR=${BROKERSYNC_CACHE_DIR:-${HOME:-/root}/.cache/brokersync}

ALL_SERVICES=(postgres cassandra dovecot)

PG_PORT=${BROKERSYNC_POSTGRES_PORT:-25432}
PG_USER=brokersync
PG_PASSWORD=brokersync
PG_DB=brokersync

CASSANDRA_VERSION=${BROKERSYNC_CASSANDRA_VERSION:-5.0.8}
CASSANDRA_NATIVE_PORT=${BROKERSYNC_CASSANDRA_PORT:-19042}
CASSANDRA_STORAGE_PORT=${BROKERSYNC_CASSANDRA_STORAGE_PORT:-17000}
CASSANDRA_SSL_STORAGE_PORT=$((CASSANDRA_STORAGE_PORT + 1))
CASSANDRA_HEAP=${BROKERSYNC_CASSANDRA_HEAP:-1g}
CASSANDRA_TIMEOUT=${BROKERSYNC_START_TIMEOUT:-240}
CASSANDRA_LIB="$CACHE_DIR/cassandra-$CASSANDRA_VERSION/lib"

CLUSTER_NODES=${BROKERSYNC_CASSANDRA_NODES:-3}
CLUSTER_NATIVE_PORT=${BROKERSYNC_CLUSTER_CASSANDRA_PORT:-29042}
CLUSTER_STORAGE_PORT=${BROKERSYNC_CLUSTER_CASSANDRA_STORAGE_PORT:-27000}
CLUSTER_HEAP=${BROKERSYNC_CLUSTER_CASSANDRA_HEAP:-512m}

IMAP_PORT=${BROKERSYNC_IMAP_PORT:-10143}
IMAP_USERS=(broker1 broker2 broker3 broker4)
IMAP_PASSWORD=secret

APT_UPDATED=0

# ---------------------------------------------------------------- helpers

log() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: ERROR: %s\n' "$*" >&2
	exit 1
}

now_ms() { date +%s%3N; }
elapsed() { # start_ms -> "12.3s"
	local d=$(($(now_ms) - $1))
	printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100))
}

# tail_log FILE...: show the end of logs after a failure.
tail_log() {
	local f
	for f in "$@"; do
		[[ -f $f ]] || continue
		printf -- '----- last lines of %s -----\n' "$f" >&2
		tail -n 40 "$f" >&2 || true
	done
	printf -- '-----\n' >&2
}

# port_open PORT [HOST]: something accepts TCP connections on HOST:PORT
# (HOST default 127.0.0.1).
port_open() {
	# shellcheck disable=SC2016 # $1 and $2 expand in the inner bash
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$2/$1"' _ "$1" "${2:-127.0.0.1}" 2>/dev/null
}

# pid_alive PIDFILE PATTERN: the recorded process exists and its command line
# contains PATTERN (guards against pid reuse; a zombie has no command line).
pid_alive() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	grep -qaF -- "$2" "/proc/$pid/cmdline" 2>/dev/null
}

# launch PIDFILE LOGFILE CMD...: run CMD detached (own session, no stdin, output
# to LOGFILE, lock fd closed) and record its pid, which is CMD's own pid.
launch() {
	local pidfile=$1 logfile=$2 i
	shift 2
	rm -f "$pidfile"
	# shellcheck disable=SC2016 # $$, $0 and $@ expand in the inner bash
	setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 9>&- &
	for ((i = 0; i < 100; i++)); do
		[[ -s $pidfile ]] && return 0
		sleep 0.05
	done
	die "could not launch $1"
}

# stop_pid PIDFILE PATTERN NAME TIMEOUT: SIGTERM, wait, then SIGKILL.
stop_pid() {
	local pidfile=$1 pattern=$2 name=$3 limit=$4 pid start
	if ! pid_alive "$pidfile" "$pattern"; then
		rm -f "$pidfile"
		return 0
	fi
	pid=$(<"$pidfile")
	start=$(now_ms)
	kill -TERM "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && pid_alive "$pidfile" "$pattern"; do
		if (($(now_ms) - start > limit * 1000)); then
			log "$name (pid $pid) still running after ${limit}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
			break
		fi
		sleep 0.1
	done
	rm -f "$pidfile"
	log "$name stopped in $(elapsed "$start")"
}

as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root (or sudo) for: $*"
	fi
}

# apt_install PKG...: install Debian packages that are missing, without letting
# their maintainer scripts start system-wide daemons (system postgres on 5432,
# dovecot on 143) when the machine has no policy-rc.d of its own.
apt_install() {
	local missing=() p policy=/usr/sbin/policy-rc.d added=0 rc=0
	for p in "$@"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing Debian packages: ${missing[*]}"
	if [[ ! -e $policy ]]; then
		as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
		added=1
	fi
	if ((APT_UPDATED == 0)); then
		as_root apt-get -o DPkg::Lock::Timeout=300 update -qq || rc=$?
		APT_UPDATED=1
	fi
	if ((rc == 0)); then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 \
			install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
	fi
	((added == 0)) || as_root rm -f "$policy"
	((rc == 0)) || die "apt-get install ${missing[*]} failed"
}

# install_chromium: Debian's chromium for the browser test of the web pages
# (webhooks/web TestTimelineInBrowser fails without it when the backends are
# required), and a colour emoji font so that its screenshots show the pages'
# icons. BROKERSYNC_CHROMIUM names another browser binary instead.
install_chromium() {
	if [[ -z ${BROKERSYNC_CHROMIUM:-} ]] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
		apt_install chromium
		command -v chromium >/dev/null || die "chromium not installed"
	fi
	apt_install fonts-noto-color-emoji
}

# shared_base: parent of the postgres and dovecot dirs. Those servers run parts
# of themselves as other users (postgres, nobody, dovecot) that must reach these
# dirs, and their unix sockets need short paths. Normally the run dir; when it is
# not reachable by others (e.g. a checkout under /root) or too long, a dir in /tmp
# named after the run dir, linked from the run dir.
shared_base() {
	if ((EUID != 0)) || { ((${#RUN_DIR} <= 64)) && runuser -u nobody -- test -x "$RUN_DIR" 2>/dev/null; }; then
		printf '%s\n' "$RUN_DIR"
	else
		printf '/tmp/brokersync-%s\n' "$(printf '%s' "$RUN_DIR" | cksum | cut -d' ' -f1)"
	fi
}

# service_dir NAME: the dir of a service that other users must reach.
service_dir() {
	local base
	base=$(shared_base)
	if [[ $base != "$RUN_DIR" ]]; then
		mkdir -p "$base/$1"
		chmod 755 "$base"
		ln -sfn "$base/$1" "$RUN_DIR/$1"
	fi
	printf '%s/%s\n' "$base" "$1"
}

# ---------------------------------------------------------------- postgres

pg_bindir() {
	local d
	d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/initdb ]] && printf '%s\n' "$d"
}

install_postgres() {
	if [[ -z $(pg_bindir) ]] || ! command -v psql >/dev/null; then
		apt_install postgresql postgresql-client
	fi
	[[ -n $(pg_bindir) ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin"
}

PG_DIR="" PG_DATA="" PG_SOCK="" PG_LOG="" PG_BIN=""
pg_paths() {
	[[ -n $PG_DIR ]] && return 0
	PG_DIR=$(service_dir postgres)
	PG_DATA="$PG_DIR/data"
	PG_SOCK="$PG_DIR/sock"
	PG_LOG="$PG_DIR/postgres.log"
	PG_BIN=$(pg_bindir || true)
}

# as_pg CMD...: run as the postgres system user when root (initdb, pg_ctl and
# postgres refuse root), else as ourselves; from a dir that user can enter.
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

pg_running() {
	pg_paths
	[[ -n $PG_BIN && -f $PG_DATA/PG_VERSION ]] || return 1
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

start_postgres() {
	install_postgres
	pg_paths
	if pg_running; then
		log "postgres already running on 127.0.0.1:$PG_PORT"
		return 0
	fi
	! port_open "$PG_PORT" || die "port $PG_PORT is taken by another process (not our postgres)"
	local start
	start=$(now_ms)
	mkdir -p "$PG_DIR" "$PG_SOCK"
	if ((EUID == 0)); then
		chown postgres:postgres "$PG_DIR" "$PG_SOCK"
	fi
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		rm -rf "$PG_DATA"
		log "postgres: initdb $PG_DATA"
		as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=trust --auth-host=scram-sha-256 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
			{
				tail_log "$PG_DIR/initdb.log"
				die "initdb failed"
			}
		as_pg sh -c "echo \"include 'brokersync.conf'\" >>'$PG_DATA/postgresql.conf'"
	fi
	# Rewritten on every start so changes here apply to an existing data dir.
	as_pg tee "$PG_DATA/brokersync.conf" >/dev/null <<EOF
# written by scripts/services.sh: test settings, not for real data
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s start 9>&-; then
		tail_log "$PG_LOG"
		die "postgres did not start"
	fi
	as_pg "$PG_BIN/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -f - >/dev/null <<EOF ||
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
		{
			tail_log "$PG_LOG"
			die "postgres: creating role/database failed"
		}
	# Readiness as the tests see it: TCP, password, the test database.
	if ! "$PG_BIN/psql" -X -qAt "$(pg_url)" -c 'SELECT 1' >/dev/null; then
		tail_log "$PG_LOG"
		die "postgres: cannot connect as $PG_USER over TCP"
	fi
	log "postgres ready on 127.0.0.1:$PG_PORT in $(elapsed "$start") (log: $PG_LOG)"
}

stop_postgres() {
	pg_paths
	pg_running || return 0
	local start
	start=$(now_ms)
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop ||
		die "postgres did not stop (log: $PG_LOG)"
	log "postgres stopped in $(elapsed "$start")"
}

pg_url() {
	printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable\n' "$PG_USER" "$PG_PASSWORD" "$PG_PORT" "$PG_DB"
}

# ---------------------------------------------------------------- cassandra

CASS_DIR="$RUN_DIR/cassandra"
CASS_PID="$CASS_DIR/cassandra.pid"
CASS_LOGDIR="$CASS_DIR/logs"
CASS_PATTERN=org.apache.cassandra.service.CassandraDaemon
CQLPING="$RUN_DIR/bin/cqlping"

java_major() { # JAVA -> major version
	"$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9.]*\).*/\1/p' | head -n 1
}

# find_java sets JAVA to a Java that Cassandra 5.0 supports (17 or 11),
# probing each candidate (a JVM start) until one is found.
JAVA=
find_java() {
	[[ -z $JAVA ]] || return 0
	local j v
	for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" \
		/usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*17*/bin/java \
		/usr/lib/jvm/java-11-openjdk-*/bin/java /usr/lib/jvm/*11*/bin/java; do
		[[ -n $j && -x $j ]] || continue
		v=$(java_major "$j")
		if [[ $v == 17 || $v == 11 ]]; then
			JAVA=$j
			return 0
		fi
	done
	return 1
}

install_cassandra() {
	find_java || apt_install openjdk-17-jre-headless
	find_java || die "no Java 17 or 11 for Cassandra $CASSANDRA_VERSION"
	fetch_cassandra_jars
	build_cqlping
}

fetch_cassandra_jars() {
	local top="$CACHE_DIR/cassandra-$CASSANDRA_VERSION"
	[[ -f $top/.complete ]] && return 0
	command -v mvn >/dev/null || apt_install maven
	mkdir -p "$top"
	(
		# One fetch at a time per cache dir; the others wait and reuse it.
		exec 8>"$top/.lock"
		flock -w 900 8 || die "timed out waiting for $top/.lock"
		[[ -f $top/.complete ]] && exit 0
		local start
		start=$(now_ms)
		log "cassandra: fetching cassandra-all $CASSANDRA_VERSION and its dependencies with Maven into $top/lib"
		local mvn_args=(-B -q -f "$SCRIPT_DIR/cassandra/pom.xml" -Dcassandra.version="$CASSANDRA_VERSION"
			dependency:copy-dependencies -DoutputDirectory="$top/lib.tmp")
		rm -rf "$top/lib.tmp"
		# Offline first: ~/.m2 usually has everything already; else download.
		if ! mvn -o "${mvn_args[@]}" >"$top/mvn.log" 2>&1; then
			rm -rf "$top/lib.tmp"
			if ! mvn "${mvn_args[@]}" >"$top/mvn.log" 2>&1; then
				tail_log "$top/mvn.log"
				die "Maven could not fetch Cassandra $CASSANDRA_VERSION"
			fi
		fi
		[[ -f $top/lib.tmp/cassandra-all-$CASSANDRA_VERSION.jar ]] || die "Maven fetched no cassandra-all jar"
		rm -rf "${top:?}/lib"
		mv "$top/lib.tmp" "$top/lib"
		touch "$top/.complete"
		log "cassandra: jars fetched in $(elapsed "$start") ($(find "$top/lib" -name '*.jar' | wc -l) jars)"
	)
}

build_cqlping() {
	local src="$SCRIPT_DIR/cqlping/main.go"
	if [[ -x $CQLPING && $CQLPING -nt $src && $CQLPING -nt $REPO_ROOT/go.mod && $CQLPING -nt $REPO_ROOT/go.sum ]]; then
		return 0
	fi
	command -v go >/dev/null || die "go is needed to build scripts/cqlping"
	mkdir -p "$RUN_DIR/bin"
	if (cd "$REPO_ROOT" && go build -o "$CQLPING.tmp" ./scripts/cqlping); then
		mv "$CQLPING.tmp" "$CQLPING"
	elif [[ -x $CQLPING ]]; then # e.g. go.mod half-edited right now
		log "could not rebuild scripts/cqlping; using the previous build"
	else
		die "could not build scripts/cqlping (is github.com/apache/cassandra-gocql-driver/v2 in go.mod?)"
	fi
}

# A Cassandra node is described by the N_* variables that node_single or
# node_cluster set; the functions below start, wait for and stop "the node".
# The single node and each node of the cluster share this code.
N_NAME="" N_DIR="" N_LOGDIR="" N_PID="" N_PATTERN="" N_ADDR="" N_NATIVE="" N_STORAGE=""
N_SSL="" N_HEAP="" N_SEEDS="" N_EXTRA="" N_JMX=""

# node_single: the single node `make test` uses.
node_single() {
	N_NAME=cassandra N_DIR=$CASS_DIR N_LOGDIR=$CASS_LOGDIR N_PID=$CASS_PID N_PATTERN=$CASS_PATTERN
	N_ADDR=127.0.0.1 N_NATIVE=$CASSANDRA_NATIVE_PORT N_STORAGE=$CASSANDRA_STORAGE_PORT
	N_SSL=$CASSANDRA_SSL_STORAGE_PORT N_HEAP=$CASSANDRA_HEAP N_SEEDS="127.0.0.1:$CASSANDRA_STORAGE_PORT"
	N_EXTRA="" N_JMX=${BROKERSYNC_CASSANDRA_JMX_PORT:-}
}

CLUSTER_DIR="$RUN_DIR/cassandra-cluster"

# cluster_token I: the initial token of node I (1-based) of CLUSTER_NODES,
# evenly spaced over Murmur3's range, so that a brand-new cluster needs no
# token allocation and every node owns the same share.
cluster_token() {
	# 2^64 / n * (i-1) - 2^63, in bash's signed 64-bit arithmetic.
	local i=$1 n=$CLUSTER_NODES step
	step=$((((1 << 62) / n) * 4))
	printf '%d\n' $((-(1 << 63) + (i - 1) * step))
}

# node_cluster I: node I (1-based) of the cluster, on 127.0.0.I.
node_cluster() {
	local i=$1 j seeds=()
	[[ $i =~ ^[1-9]$ ]] && ((i <= CLUSTER_NODES)) || die "no cluster node '$i' (nodes: 1-$CLUSTER_NODES)"
	for ((j = 1; j <= CLUSTER_NODES; j++)); do seeds+=("127.0.0.$j:$CLUSTER_STORAGE_PORT"); done
	N_NAME="cassandra node $i" N_DIR="$CLUSTER_DIR/node$i" N_LOGDIR="$CLUSTER_DIR/node$i/logs"
	N_PID="$CLUSTER_DIR/node$i/cassandra.pid"
	# The node's own config path: tells its process from the other nodes'.
	N_PATTERN="$CLUSTER_DIR/node$i/cassandra.yaml"
	N_ADDR="127.0.0.$i" N_NATIVE=$CLUSTER_NATIVE_PORT N_STORAGE=$CLUSTER_STORAGE_PORT
	N_SSL=$((CLUSTER_STORAGE_PORT + 1)) N_HEAP=$CLUSTER_HEAP
	N_SEEDS=$(
		IFS=,
		echo "${seeds[*]}"
	)
	# Every node is a seed and has its token fixed: a new cluster's nodes can
	# start together (seeds do not bootstrap, and fixed tokens need no
	# allocation), and a restarted node keeps its token from its system tables.
	N_EXTRA="initial_token: $(cluster_token "$i")
auto_bootstrap: false
# Three JVMs on two shared cores: a replica's answer can take seconds. Above
# the defaults (2s, 1.8s), so that a slow Paxos round is not a timeout.
write_request_timeout: 5000ms
cas_contention_timeout: 3000ms
# Hints replay what a node missed while down within 3 hours (the default).
hinted_handoff_enabled: true
max_hint_window: 3h"
	N_JMX=""
}

cluster_hosts() {
	local i hosts=()
	for ((i = 1; i <= CLUSTER_NODES; i++)); do hosts+=("127.0.0.$i:$CLUSTER_NATIVE_PORT"); done
	IFS=,
	echo "${hosts[*]}"
}

node_running() { pid_alive "$N_PID" "$N_PATTERN"; }
cassandra_running() { (node_single && node_running); }

# cql_ready reports whether the node answers CQL, keeping its version in
# CASS_VERSION.
cql_ready() {
	port_open "$N_NATIVE" "$N_ADDR" &&
		CASS_VERSION=$("$CQLPING" -hosts "$N_ADDR:$N_NATIVE" -timeout 5s 2>/dev/null)
}

render_cassandra_yaml() {
	local t
	t=$(<"$SCRIPT_DIR/cassandra/cassandra.yaml")
	t=${t//@@DIR@@/$N_DIR}
	t=${t//@@ADDR@@/$N_ADDR}
	t=${t//@@SEEDS@@/$N_SEEDS}
	t=${t//@@STORAGE_PORT@@/$N_STORAGE}
	t=${t//@@SSL_STORAGE_PORT@@/$N_SSL}
	t=${t//@@NATIVE_PORT@@/$N_NATIVE}
	printf '%s\n' "$t" >"$N_DIR/cassandra.yaml"
	[[ -z $N_EXTRA ]] || printf '\n# for a node of a cluster\n%s\n' "$N_EXTRA" >>"$N_DIR/cassandra.yaml"
}

cassandra_jvm_opts() {
	local java=$1 jamm pkg
	JVM_OPTS=(
		-ea -da:net.openhft...
		"-Xms$N_HEAP" "-Xmx$N_HEAP" -Xss256k
		-XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1
		# C1 only: about half the start-up CPU on 2 cores; test loads are light.
		# BROKERSYNC_CASSANDRA_JVM_OPTS=-XX:TieredStopAtLevel=4 restores C2.
		-XX:TieredStopAtLevel=1
		-XX:+PerfDisableSharedMem -XX:+ExitOnOutOfMemoryError
		-Djava.net.preferIPv4Stack=true -Djdk.attach.allowAttachSelf=true
		-Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true
		-Dio.netty.allocator.maxOrder=11 -Dchronicle.analytics.disable=true
		-Dcassandra-foreground=yes
		"-Dcassandra.config=file://$N_DIR/cassandra.yaml"
		"-Dcassandra.storagedir=$N_DIR"
		"-Dcassandra.logdir=$N_LOGDIR"
		"-Dlogback.configurationFile=$SCRIPT_DIR/cassandra/logback.xml"
		# Fast start and stop of throw-away test nodes.
		-Dcassandra.skip_wait_for_gossip_to_settle=0
		-Dcassandra.ring_delay_ms=1000
		-Dcassandra.shutdown_announce_in_ms=0
		-Dcassandra.test.messagingService.nonGracefulShutdown=true
		-Dcassandra.skip_sync=true
		-Dcassandra.test.ignore_sigar=true
		"-Dcassandra.triggers_dir=$N_DIR/triggers"
		--add-exports java.base/jdk.internal.misc=ALL-UNNAMED
		--add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
		--add-exports java.management/com.sun.jmx.remote.security=ALL-UNNAMED
		--add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
		--add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
		--add-exports java.sql/java.sql=ALL-UNNAMED
		--add-exports java.base/java.lang.ref=ALL-UNNAMED
		--add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
		--add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
	)
	for pkg in java.lang.module jdk.internal.loader jdk.internal.ref jdk.internal.reflect \
		jdk.internal.math jdk.internal.module jdk.internal.util.jar sun.nio.ch java.io \
		java.lang.reflect java.lang java.util java.nio; do
		JVM_OPTS+=(--add-opens "java.base/$pkg=ALL-UNNAMED")
	done
	if [[ -x $(dirname "$java")/javac ]]; then # a full JDK
		JVM_OPTS+=(
			--add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
			--add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
			--add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
		)
	fi
	jamm=$(find "$CASSANDRA_LIB" -maxdepth 1 -name 'jamm-*.jar' | sort -V | tail -n 1)
	[[ -z $jamm ]] || JVM_OPTS+=("-javaagent:$jamm")
	# No flush of schema tables on each DDL: faster tests on the single node.
	# Not on a cluster's nodes, whose loss the tests play: a node killed
	# with it comes back without the keyspaces made since its last flush,
	# and then drops their commit log on replay (its rows are lost).
	[[ -n $N_EXTRA ]] || JVM_OPTS+=(-Dcassandra.unsafesystem=true)
	if [[ -n ${BROKERSYNC_CASSANDRA_JVM_OPTS:-} ]]; then
		local extra
		read -r -a extra <<<"$BROKERSYNC_CASSANDRA_JVM_OPTS"
		JVM_OPTS+=("${extra[@]}")
	fi
	if [[ -n ${N_JMX:-} ]]; then
		JVM_OPTS+=("-Dcassandra.jmx.local.port=$N_JMX")
	fi
}


# launch_node: start the node's JVM without waiting for it.
launch_node() {
	local p
	for p in "$N_NATIVE" "$N_STORAGE"; do
		! port_open "$p" "$N_ADDR" || die "$N_ADDR:$p is taken by another process (not our $N_NAME)"
	done
	mkdir -p "$N_DIR"/{data,commitlog,saved_caches,hints,cdc_raw,triggers} "$N_LOGDIR"
	render_cassandra_yaml
	cassandra_jvm_opts "$JAVA"
	printf '\n==== %s start\n' "$(date -Is)" >>"$N_LOGDIR/stdout.log"
	launch "$N_PID" "$N_LOGDIR/stdout.log" \
		"$JAVA" "${JVM_OPTS[@]}" -cp "$CASSANDRA_LIB/*" "$CASS_PATTERN"
	log "$N_NAME starting (pid $(<"$N_PID")) on $N_ADDR:$N_NATIVE"
}

# wait_node START_MS: wait until the node answers CQL; stop it and fail after
# CASSANDRA_TIMEOUT seconds from START_MS or when it exits.
wait_node() {
	local start=$1
	while :; do
		if ! node_running; then
			tail_log "$N_LOGDIR/stdout.log" "$N_LOGDIR/system.log"
			die "$N_NAME exited during start-up"
		fi
		cql_ready && break
		if (($(now_ms) - start > CASSANDRA_TIMEOUT * 1000)); then
			tail_log "$N_LOGDIR/stdout.log" "$N_LOGDIR/system.log"
			stop_pid "$N_PID" "$N_PATTERN" "$N_NAME" 30
			die "$N_NAME not ready after ${CASSANDRA_TIMEOUT}s"
		fi
		sleep 0.5
	done
	log "$N_NAME $CASS_VERSION ready on $N_ADDR:$N_NATIVE in $(elapsed "$start") (log: $N_LOGDIR/system.log)"
}

start_cassandra() {
	install_cassandra
	node_single
	if node_running; then
		log "cassandra already running on 127.0.0.1:$N_NATIVE (pid $(<"$N_PID"))"
		return 0
	fi
	local start
	start=$(now_ms)
	launch_node
	log "waiting up to ${CASSANDRA_TIMEOUT}s for CQL on 127.0.0.1:$N_NATIVE"
	wait_node "$start"
}

stop_cassandra() {
	node_single
	stop_pid "$N_PID" "$N_PATTERN" cassandra 60
}

# ---------------------------------------------------------------- cassandra cluster

install_cluster() { install_cassandra; }

cluster_any_running() {
	local i
	for ((i = 1; i <= CLUSTER_NODES; i++)); do
		(node_cluster "$i" && node_running) && return 0
	done
	return 1
}

cluster_running() {
	local i
	for ((i = 1; i <= CLUSTER_NODES; i++)); do
		(node_cluster "$i" && node_running) || return 1
	done
}

# wait_ring START_MS: wait until every node sees every other as UP and all
# agree on the schema (scripts/cqlping -ring asks each node as coordinator).
wait_ring() {
	local start=$1 out
	while ! out=$("$CQLPING" -hosts "$(cluster_hosts)" -ring "$CLUSTER_NODES" -timeout 10s 2>&1); do
		if (($(now_ms) - start > CASSANDRA_TIMEOUT * 1000)); then
			printf '%s\n' "$out" >&2
			die "cassandra cluster: not all nodes UP after ${CASSANDRA_TIMEOUT}s"
		fi
		sleep 0.5
	done
	log "cassandra cluster: all $CLUSTER_NODES nodes UP and in schema agreement after $(elapsed "$start")"
}

# start_cluster starts every node that is not running, all at once (a
# brand-new cluster whose nodes are all seeds with fixed tokens can), waits
# for each to answer CQL, then for the ring.
start_cluster() {
	install_cassandra
	[[ $CLUSTER_NODES =~ ^[1-9]$ ]] || die "BROKERSYNC_CASSANDRA_NODES must be 1-9"
	local i start started=()
	start=$(now_ms)
	for ((i = 1; i <= CLUSTER_NODES; i++)); do
		node_cluster "$i"
		if node_running; then
			log "$N_NAME already running (pid $(<"$N_PID"))"
		else
			launch_node
			started+=("$i")
		fi
	done
	for i in "${started[@]}"; do
		node_cluster "$i"
		wait_node "$start"
	done
	wait_ring "$start"
	log "cassandra cluster ready on $(cluster_hosts) in $(elapsed "$start")"
}

stop_cluster() {
	local i
	for ((i = 1; i <= CLUSTER_NODES; i++)); do
		node_cluster "$i"
		stop_pid "$N_PID" "$N_PATTERN" "$N_NAME" 60 &
	done
	wait
}

# node_action stop|kill|start N...: nodes of the running cluster. start
# launches them all, then waits for each and for the ring.
node_action() {
	local action=$1 i start launched=()
	shift
	for i in "$@"; do node_cluster "$i"; done # check them all first
	start=$(now_ms)
	for i in "$@"; do
		node_cluster "$i"
		case $action in
		stop) stop_pid "$N_PID" "$N_PATTERN" "$N_NAME" 60 ;;
		kill)
			if node_running; then
				kill -KILL "$(<"$N_PID")" 2>/dev/null || true
				while node_running; do sleep 0.1; done
				log "$N_NAME killed (SIGKILL)"
			fi
			rm -f "$N_PID"
			;;
		start)
			install_cassandra
			node_cluster "$i"
			if node_running; then
				log "$N_NAME already running (pid $(<"$N_PID"))"
			else
				launch_node
				launched+=("$i")
			fi
			;;
		esac
	done
	[[ $action == start ]] || return 0
	for i in "${launched[@]}"; do
		node_cluster "$i"
		wait_node "$start"
	done
	wait_ring "$start"
}

# ---------------------------------------------------------------- dovecot

DC_DIR="" DC_CONF="" DC_PID="" DC_LOG=""
DC_PATTERN=dovecot
dc_paths() {
	[[ -n $DC_DIR ]] && return 0
	DC_DIR=$(service_dir dovecot)
	DC_CONF="$DC_DIR/dovecot.conf"
	DC_PID="$DC_DIR/dovecot.pid"
	DC_LOG="$DC_DIR/dovecot.log"
}

dovecot_bin() { command -v dovecot || { [[ -x /usr/sbin/dovecot ]] && echo /usr/sbin/dovecot; }; }

install_dovecot() {
	[[ -n $(dovecot_bin) ]] || apt_install dovecot-imapd
	[[ -n $(dovecot_bin) ]] || die "dovecot not installed"
}

dovecot_running() {
	dc_paths
	pid_alive "$DC_PID" "$DC_PATTERN"
}

# imap_login PORT USER PASSWORD: greeting, LOGIN answered OK, LOGOUT.
imap_login() {
	# shellcheck disable=SC2016 # expands in the inner bash
	timeout 10 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		IFS= read -r -t 5 line <&3 || exit 1
		[[ $line == "* OK"* ]] || exit 1
		printf "a1 LOGIN %s %s\r\n" "$2" "$3" >&3
		while IFS= read -r -t 5 line <&3; do
			case $line in
			"a1 OK"*) printf "a2 LOGOUT\r\n" >&3; exit 0 ;;
			"a1 "*) exit 1 ;;
			esac
		done
		exit 1' _ "$@" 2>/dev/null
}

write_dovecot_conf() {
	local u
	: >"$DC_DIR/users.tmp"
	for u in "${IMAP_USERS[@]}"; do
		printf '%s:{PLAIN}%s\n' "$u" "$IMAP_PASSWORD" >>"$DC_DIR/users.tmp"
	done
	mv "$DC_DIR/users.tmp" "$DC_DIR/users"
	cat >"$DC_CONF" <<EOF
# written by scripts/services.sh: test IMAP server on loopback, plaintext, fixed test passwords
protocols = imap
listen = 127.0.0.1
instance_name = brokersync-dovecot
base_dir = $DC_DIR/run
state_dir = $DC_DIR/state
log_path = $DC_LOG
verbose_proctitle = yes
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:$DC_DIR/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
first_valid_gid = 1
mail_fsync = never
mail_max_userip_connections = 200
namespace inbox {
  inbox = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC_DIR/users
}
userdb {
  driver = static
  args = home=$DC_DIR/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
}

start_dovecot() {
	((EUID == 0)) || die "dovecot: the test IMAP server needs root (it switches to nobody for mail)"
	install_dovecot
	dc_paths
	if dovecot_running; then
		log "dovecot already running on 127.0.0.1:$IMAP_PORT (pid $(<"$DC_PID"))"
		return 0
	fi
	! port_open "$IMAP_PORT" || die "port $IMAP_PORT is taken by another process (not our dovecot)"
	local start
	start=$(now_ms)
	mkdir -p "$DC_DIR/run" "$DC_DIR/state" "$DC_DIR/mail"
	chown nobody:nogroup "$DC_DIR/mail"
	write_dovecot_conf
	printf '\n==== %s start\n' "$(date -Is)" >>"$DC_LOG"
	launch "$DC_PID" "$DC_LOG" "$(dovecot_bin)" -F -c "$DC_CONF"
	while :; do
		if ! dovecot_running; then
			tail_log "$DC_LOG"
			die "dovecot exited during start-up"
		fi
		imap_login "$IMAP_PORT" "${IMAP_USERS[0]}" "$IMAP_PASSWORD" && break
		if (($(now_ms) - start > 30000)); then
			tail_log "$DC_LOG"
			stop_pid "$DC_PID" "$DC_PATTERN" dovecot 10
			die "dovecot: no successful IMAP LOGIN after 30s"
		fi
		sleep 0.2
	done
	log "dovecot ready on 127.0.0.1:$IMAP_PORT in $(elapsed "$start") (log: $DC_LOG)"
}

stop_dovecot() {
	dc_paths
	stop_pid "$DC_PID" "$DC_PATTERN" dovecot 20
}

# ---------------------------------------------------------------- env, status

is_running() {
	case $1 in
	postgres) pg_running ;;
	cassandra) cassandra_running ;;
	cluster) cluster_running ;;
	dovecot) dovecot_running ;;
	esac
}

write_env() {
	local f="$RUN_DIR/env" tmp
	tmp="$f.$$"
	{
		echo "# written by scripts/services.sh: only services running at $(date -Is)"
		printf 'export BROKERSYNC_TEST_SERVICES=%q\n' "$SELF"
		# So that services.sh run from a test finds this run dir and these ports.
		printf 'export BROKERSYNC_RUN_DIR=%q\n' "$RUN_DIR"
		local v
		for v in BROKERSYNC_POSTGRES_PORT BROKERSYNC_CASSANDRA_PORT BROKERSYNC_CASSANDRA_STORAGE_PORT BROKERSYNC_IMAP_PORT \
			BROKERSYNC_CASSANDRA_NODES BROKERSYNC_CLUSTER_CASSANDRA_PORT BROKERSYNC_CLUSTER_CASSANDRA_STORAGE_PORT; do
			[[ -z ${!v:-} ]] || printf 'export %s=%q\n' "$v" "${!v}"
		done
		if pg_running; then
			echo "# postgres log: $PG_LOG"
			echo "export BROKERSYNC_TEST_POSTGRES_URL=$(pg_url)"
		fi
		if cassandra_running; then
			echo "# cassandra log: $CASS_LOGDIR/system.log"
			echo "export BROKERSYNC_TEST_CASSANDRA_HOSTS=127.0.0.1:$CASSANDRA_NATIVE_PORT"
		fi
		if cluster_any_running; then
			echo "# cassandra cluster logs: $CLUSTER_DIR/node*/logs/system.log"
			echo "export BROKERSYNC_TEST_CASSANDRA_CLUSTER_HOSTS=$(cluster_hosts)"
		fi
		if dovecot_running; then
			echo "# dovecot log: $DC_LOG"
			echo "export BROKERSYNC_TEST_IMAP_ADDR=127.0.0.1:$IMAP_PORT"
			echo "export BROKERSYNC_TEST_IMAP_USERS=$(
				IFS=,
				echo "${IMAP_USERS[*]}"
			)"
			echo "export BROKERSYNC_TEST_IMAP_PASSWORD=$IMAP_PASSWORD"
		fi
	} >"$tmp"
	mv "$tmp" "$f"
}

status() {
	local s rc=0
	for s in "$@"; do
		if is_running "$s"; then
			case $s in
			postgres) printf '%-10s running  %s  log %s\n' "$s" "$(pg_url)" "$PG_LOG" ;;
			cassandra) printf '%-10s running  127.0.0.1:%s pid %s  log %s\n' "$s" "$CASSANDRA_NATIVE_PORT" "$(<"$CASS_PID")" "$CASS_LOGDIR/system.log" ;;
			dovecot) printf '%-10s running  127.0.0.1:%s pid %s  log %s\n' "$s" "$IMAP_PORT" "$(<"$DC_PID")" "$DC_LOG" ;;
			cluster) printf '%-10s running  %s  logs %s\n' "$s" "$(cluster_hosts)" "$CLUSTER_DIR/node*/logs/system.log" ;;
			esac
		else
			printf '%-10s stopped\n' "$s"
			rc=3
		fi
	done
	printf 'env file: %s\n' "$RUN_DIR/env"
	return "$rc"
}

clean() {
	local s
	for s in "$@"; do
		"stop_$s"
		case $s in
		postgres) rm -rf "${PG_DIR:?}" ;;
		cassandra) rm -rf "${CASS_DIR:?}" ;;
		cluster) rm -rf "${CLUSTER_DIR:?}" ;;
		dovecot) rm -rf "${DC_DIR:?}" ;;
		esac
		[[ ! -L $RUN_DIR/$s ]] || rm -f "${RUN_DIR:?}/$s"
		log "$s: data removed"
	done
	[[ $(shared_base) == "$RUN_DIR" ]] || rmdir "$(shared_base)" 2>/dev/null || true
}

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$SELF" >&2
	exit 2
}

main() {
	(($#)) || usage
	local cmd=$1 s
	shift
	case $cmd in
	start-cluster | stop-cluster | clean-cluster)
		main "${cmd%-cluster}" cluster
		return
		;;
	stop-node | kill-node | start-node)
		(($# >= 1)) || usage
		exec 9>"$RUN_DIR/.lock"
		flock -w 900 9 || die "timed out waiting for $RUN_DIR/.lock"
		node_action "${cmd%-node}" "$@"
		return
		;;
	esac
	local names=("$@")
	((${#names[@]})) || names=("${ALL_SERVICES[@]}")
	for s in "${names[@]}"; do
		case $s in
		postgres | cassandra | dovecot | cluster) ;;
		*) die "unknown service '$s' (known: ${ALL_SERVICES[*]})" ;;
		esac
	done

	case $cmd in
	install)
		install_chromium
		for s in "${names[@]}"; do "install_$s"; done
		;;
	start | stop | clean)
		# One start/stop at a time per run dir. Daemons are launched with fd 9 closed.
		exec 9>"$RUN_DIR/.lock"
		flock -w 900 9 || die "timed out waiting for $RUN_DIR/.lock"
		# The env file always lists what runs now, also after a failed start.
		trap 'write_env || true' EXIT
		[[ $cmd != start || " ${names[*]} " == *" cluster "* ]] || install_chromium
		for s in "${names[@]}"; do
			if [[ $cmd == clean ]]; then clean "$s"; else "${cmd}_$s"; fi
		done
		if [[ $cmd == start ]]; then
			log "env for tests: source $RUN_DIR/env"
		fi
		;;
	status)
		status "${names[@]}"
		;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
