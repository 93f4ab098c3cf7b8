# Services for the distributed tests, sourced by .ci/run: a throwaway PostgreSQL on 127.0.0.1 and a
# local Ray cluster of two nodes (a head and a second node with its own resources) on this machine,
# with a password / a token as a real lab's (see the README's "A class on several machines").
# start_services exports UNSUP_LAB_TEST_DATABASE_URL and UNSUP_LAB_TEST_RAY_ADDRESS for the tests;
# stop_services ends everything it started (.ci/run calls it from a trap).

SERVICES_DIR=""
RAY_TEMP_DIR=""

_free_port() {
    python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_as_postgres_user() {
    # initdb and postgres refuse to run as root: run them as the postgres user that Debian's package made.
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local bin port password
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update
        apt-get install -y --no-install-recommends postgresql
    fi
    bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
    port=$(_free_port)
    # A password and scram-sha-256, never trust: anyone on this machine can reach 127.0.0.1.
    password=$(python -c 'import secrets; print(secrets.token_hex(16))')
    mkdir -p "$SERVICES_DIR/pg"
    chmod 700 "$SERVICES_DIR/pg"  # holds the socket and the password file
    (umask 077; echo "$password" >"$SERVICES_DIR/pg/password")
    [ "$(id -u)" = 0 ] && chown -R postgres "$SERVICES_DIR/pg"
    _as_postgres_user "$bin/initdb" -D "$SERVICES_DIR/pg/data" -U postgres --auth=scram-sha-256 \
        --pwfile="$SERVICES_DIR/pg/password" -E UTF8 >/dev/null
    _as_postgres_user "$bin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w start \
        -o "-h 127.0.0.1 -p $port -k $SERVICES_DIR/pg -c fsync=off -c max_connections=300" >/dev/null
    PG_BIN=$bin
    PGPASSWORD=$password _as_postgres_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres unsup_lab_test
    # The Ray nodes get the password from their own environment (libpq reads PGPASSFILE), never from a
    # job's description: a 0600 file of this user, exported before `ray start`.
    (umask 077; echo "127.0.0.1:$port:*:postgres:$password" >"$SERVICES_DIR/pgpass")
    export PGPASSFILE="$SERVICES_DIR/pgpass"
    export UNSUP_LAB_TEST_DATABASE_URL="postgresql://postgres:$password@127.0.0.1:$port/unsup_lab_test"
}

start_ray() {
    local gcs_port dashboard_port
    gcs_port=$(_free_port)
    dashboard_port=$(_free_port)
    RAY_TEMP_DIR="$SERVICES_DIR/ray"
    mkdir -p "$RAY_TEMP_DIR"
    # Token authentication (Ray reads RAY_AUTH_MODE and RAY_AUTH_TOKEN_PATH; the tests' Jobs API clients
    # inherit both): other users of this machine cannot submit jobs. --node-ip-address keeps the nodes
    # talking over loopback, but Ray 2.60 still listens on every interface for some of its ports
    # (GCS, raylet, agents): the token, not the address, is what keeps strangers out.
    (umask 077; python -c 'import secrets; print(secrets.token_hex(32))' >"$SERVICES_DIR/ray-token")
    export RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$SERVICES_DIR/ray-token"
    # Small on purpose (2 cores shared with the tests): 3 logical CPUs per node, a 100 MB object store.
    ray start --head --disable-usage-stats --temp-dir "$RAY_TEMP_DIR" --port "$gcs_port" --node-ip-address 127.0.0.1 \
        --num-cpus 3 --num-gpus 0 --resources '{"node1": 100}' --object-store-memory 100000000 \
        --include-dashboard true --dashboard-host 127.0.0.1 --dashboard-port "$dashboard_port" \
        --dashboard-agent-listen-port "$(_free_port)" --metrics-export-port "$(_free_port)" \
        --runtime-env-agent-port "$(_free_port)" >"$SERVICES_DIR/ray-head.log" 2>&1
    ray start --address "127.0.0.1:$gcs_port" --disable-usage-stats --node-ip-address 127.0.0.1 \
        --num-cpus 3 --num-gpus 0 --resources '{"node2": 100}' --object-store-memory 100000000 \
        --dashboard-agent-listen-port "$(_free_port)" --metrics-export-port "$(_free_port)" \
        --runtime-env-agent-port "$(_free_port)" >"$SERVICES_DIR/ray-node2.log" 2>&1
    export UNSUP_LAB_TEST_RAY_ADDRESS="http://127.0.0.1:$dashboard_port"
}

start_services() {
    SERVICES_DIR=$(mktemp -d /tmp/unsup-lab-services.XXXXXX)
    chmod 755 "$SERVICES_DIR"
    start_postgres
    start_ray
    # The tests fail, never skip, when these services are missing.
    export UNSUP_LAB_REQUIRE_SERVICES=1
}

stop_services() {
    if [ -n "$RAY_TEMP_DIR" ]; then
        ray stop --force >/dev/null 2>&1 || true
    fi
    if [ -n "${PG_BIN:-}" ] && [ -d "$SERVICES_DIR/pg/data" ]; then
        _as_postgres_user "$PG_BIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -n "$SERVICES_DIR" ]; then
        rm -rf "$SERVICES_DIR"
    fi
}
