# Sourced by .ci/durability and .ci/durability-redis: the secret, reading
# the events file, waiting, and starting a receiver on a port it can take
# again after a kill. Needs $work.
export FOXREACH_WEBHOOK_SECRET=a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6a7b8c9d0e1f2
value() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<< "$2"; }
# Lines, and distinct deliveries, of run $1 in file $2.
written() { { grep -o "lead_id=$1_[0-9]*" "$2" 2>/dev/null || true; } | wc -l; }
distinct() { { grep -o "lead_id=$1_[0-9]*" "$2" 2>/dev/null || true; } | sort -u | wc -l; }
# wait_until SECONDS COMMAND...: polls every 0.1 s.
wait_until() {
  local tenths=$(( $1 * 10 )); shift
  for _ in $(seq "$tenths"); do "$@" && return 0; sleep 0.1; done
  return 1
}
at_least() { [ "$("$1" "$2" "$3")" -ge "$4" ]; }

# start NAME PORT [VAR=value...]: the receiver on PORT (0: any), its output
# in $work/NAME.err; sets $pid, $url and $port.
start() {
  local name=$1 on=$2; shift 2
  env PORT="$on" "$@" target/release/examples/receiver >> "$work/$name.out" 2>> "$work/$name.err" &
  pid=$!
  : > "$work/$name.listening"
  for _ in $(seq 100); do
    url=$(sed -n 's/^listening on //p' "$work/$name.err" | tail -n 1)
    [ -n "$url" ] && [ "$(grep -c "listening on" "$work/$name.err")" -gt "$(wc -l < "$work/$name.listening")" ] && break
    sleep 0.1
  done
  grep "listening on" "$work/$name.err" > "$work/$name.listening"
  kill -0 "$pid" 2>/dev/null || { echo "$name did not start" >&2; cat "$work/$name.err" >&2; exit 1; }
  port=${url##*:}; port=${port%%/*}
}
