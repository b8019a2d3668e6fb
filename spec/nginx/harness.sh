# shellcheck shell=bash
# spec/nginx/harness.sh — sourced (bash) by spec/nginx/run and
# bench/openresty/run: a throwaway nginx with Debian's Lua module, run from a
# private temporary prefix on 127.0.0.1. Nothing touches /etc/nginx or /var.
#
#   nginx_setup BUILD_DIR     finds nginx and the modules (exit 77 without
#                             them), makes $prefix, sets $build, $library,
#                             $source_root, and a trap that stops nginx and
#                             removes the prefix (showing the logs on failure)
#   nginx_start TEMPLATE      renders TEMPLATE into $prefix/conf/nginx.conf
#                             on a free port ($port) and starts nginx
#   nginx_stop [SIGNAL [SECONDS]]  stops it (TERM, 5 s by default); returns 1
#                             when it had to be killed
#   fail MESSAGE / skip MESSAGE
#
# Placeholders a template may use: @LOAD_MODULES@, @USER@, @PREFIX@,
# @SOURCE@, @LIBRARY@, @PORT@, and @POOL@ (the value of $pool_lines).
# $prefix/lib/net/libnet.so.1 links to the build's library, for templates
# that let the FFI backend find it under lua_package_cpath "@PREFIX@/lib/?.so;;".

harness_name=${harness_name:-nginx test}
fail() { echo "$harness_name: $*" >&2; exit 1; }
skip() { echo "$harness_name skipped: $*" >&2; exit 77; }

nginx_setup() {
    build=$(cd "${1:?BUILD_DIR missing}" && pwd -P) # physical: compared with /proc/PID/maps
    source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    library=$build/libnet.so.1

    nginx=$(PATH=$PATH:/usr/sbin:/sbin command -v nginx) || skip "nginx is not installed"
    local modules_dir
    modules_dir=$("$nginx" -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')
    modules_dir=${modules_dir:-/usr/lib/nginx/modules}
    [[ -e $modules_dir/ngx_http_lua_module.so ]] ||
        skip "no ngx_http_lua_module.so in $modules_dir (libnginx-mod-http-lua)"
    [[ -e $library ]] || fail "no $library: build first (ninja -C $build)"

    # Debian builds the Lua module against the NDK module: load that one first.
    load_modules=""
    local m
    for m in ndk_http_module.so ngx_http_lua_module.so; do
        [[ -e $modules_dir/$m ]] && load_modules+="load_module $modules_dir/$m;"$'\n'
    done
    # A root master hands requests to workers running as 'nobody', who may
    # not be able to read the checkout or the build tree; keep them root.
    user_line=""
    [[ $(id -u) -eq 0 ]] && user_line="user root root;"

    prefix=$(mktemp -d "${TMPDIR:-/tmp}/lua-net-nginx.XXXXXX")
    mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp" "$prefix/lib/net"
    ln -s "$library" "$prefix/lib/net/libnet.so.1"
    pidfile=$prefix/nginx.pid
    trap harness_cleanup EXIT
}

# Whether process pid runs: a zombie has exited (kill -0 still finds it,
# until its parent, init for the daemonized master, reaps it: 1.5 s here).
# Its state is the field after the name, which may hold spaces and ")".
# Without /proc, kill -0 alone.
running() {
    local line state
    [[ -d /proc/self ]] || { kill -0 "$1" 2>/dev/null; return; }
    { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
    state=${line##*) }
    [[ ${state%% *} != Z ]]
}

# SECONDS are the clock's, however slow each look is: the deadline is read
# from bash 5's EPOCHREALTIME in microseconds (its decimal mark dropped,
# which follows the locale).
nginx_stop() { # [SIGNAL [SECONDS]]
    [[ -s $pidfile ]] || return 0
    local pid signal=${1:-TERM} deadline
    pid=$(<"$pidfile")
    kill -"$signal" "$pid" 2>/dev/null || return 0
    deadline=$(( ${EPOCHREALTIME//[!0-9]/} + ${2:-5} * 1000000 ))
    while (( ${EPOCHREALTIME//[!0-9]/} < deadline )); do
        running "$pid" || { rm -f "$pidfile"; return 0; }
        sleep 0.01
    done
    echo "nginx $pid ignored SIG$signal for ${2:-5} s; killing it" >&2
    pkill -KILL -P "$pid" 2>/dev/null || true # its own workers (by this parent pid)
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    return 1
}

show_log() {
    local log
    for log in "$prefix"/logs/*.log; do
        [[ -s $log ]] || continue
        echo "---- $log" >&2
        cat "$log" >&2
    done
}

harness_cleanup() {
    local rc=$?
    nginx_stop TERM 5 || true
    ((rc == 0 || rc == 77)) || show_log
    rm -rf "$prefix"
}

# A port the kernel reports free right now (bind to port 0, read it back).
pick_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

render() { # TEMPLATE PORT: the template with every placeholder filled
    local conf
    conf=$(<"$1")
    conf=${conf//@LOAD_MODULES@/"$load_modules"}
    conf=${conf//@USER@/"$user_line"}
    conf=${conf//@PREFIX@/"$prefix"}
    conf=${conf//@SOURCE@/"$source_root"}
    conf=${conf//@LIBRARY@/"$library"}
    conf=${conf//@POOL@/"${pool_lines:-}"}
    conf=${conf//@PORT@/"$2"}
    printf '%s\n' "$conf"
}

nginx_start() { # TEMPLATE
    # nginx binds and listens before the start command returns (it
    # daemonizes after), so no readiness wait is needed. Another process may
    # grab the picked port in between: try a few.
    local started="" attempt i
    for attempt in 1 2 3; do
        port=$(pick_port)
        render "$1" "$port" >"$prefix/conf/nginx.conf"
        if "$nginx" -p "$prefix/" -c conf/nginx.conf -e "$prefix/logs/error.log" \
            2>>"$prefix/logs/start.log"; then
            started=yes
            break
        fi
        grep -qs 'Address already in use' "$prefix/logs/start.log" "$prefix/logs/error.log" ||
            fail "nginx did not start (attempt $attempt)"
        # The unix sockets the failed start did bind stay behind, and would
        # fail every next attempt: remove the ones the config listens on. Its
        # errors move to start.log: error.log is the started server's, which
        # the checks read for alerts.
        sed -n 's/^[[:space:]]*listen[[:space:]]\{1,\}unix:\([^[:space:];]*\).*/\1/p' \
            "$prefix/conf/nginx.conf" | xargs -r rm -f
        cat "$prefix/logs/error.log" >>"$prefix/logs/start.log" 2>/dev/null || true
        : >"$prefix/logs/error.log"
    done
    [[ -n $started ]] || fail "no free port after 3 attempts"
    # The daemon writes its pid file just after the start command returns.
    for ((i = 0; i < 100; i++)); do
        [[ -s $pidfile ]] && break
        sleep 0.05
    done
    [[ -s $pidfile ]] || fail "no pid file $pidfile"
}

# Whether an nginx worker has this build's library mapped (not some
# libnet.so.1 installed on the system that the backend could fall back to).
worker_maps_library() {
    [[ -d /proc/self ]] || return 0
    local worker
    for worker in $(ps -o pid= --ppid "$(<"$pidfile")"); do
        grep -qF "$build/libnet.so" "/proc/$worker/maps" && return 0
    done
    return 1
}
