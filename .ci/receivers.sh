# Sourced by the scripts that drive the example receivers.
#
# start_receiver BINARY NAME: starts BINARY with its stdout and stderr in
# $work/NAME.out and $work/NAME.err, on a port the system picks (PORT=0: a
# fixed port can be taken by any connection's ephemeral port), waits until it
# listens, and sets $pid and $url (its webhook URL, from its "listening on"
# line). Extra environment, such as REQUEST_TIMEOUT_MS, passes through;
# RECEIVER_CPU=n runs it on CPU n alone (with taskset); RECEIVER_NOFILE=n
# with at most n file descriptors (with prlimit, which becomes the receiver).
start_receiver() {
  PORT=0 ${RECEIVER_CPU:+taskset -c "$RECEIVER_CPU"} ${RECEIVER_NOFILE:+prlimit "--nofile=$RECEIVER_NOFILE:$RECEIVER_NOFILE"} \
    "$1" > "$work/$2.out" 2> "$work/$2.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/$2.err" && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$work/$2.err" | head -n 1)
  [ -n "$url" ] || { echo "$2 did not start" >&2; cat "$work/$2.err" >&2; exit 1; }
}

# free_port: a port nobody listens on, below Linux's ephemeral range
# (32768 and up) so that no connection's own port takes it meanwhile; for
# servers that cannot be told to pick one themselves (redis-server).
free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
