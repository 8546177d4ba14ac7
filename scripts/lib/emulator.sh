# Sourced by scripts/demo.sh, storm.sh and bench-vs-cli.sh: runs
# entitled-emulator on a free loopback port for the rest of the script.
#
#   start_emulator BINARY LOG [EMULATOR ARGS...]
#
# Waits for the emulator's first stdout line, `listening on URL`, which it
# prints once it accepts connections and has written --public-key-out and
# --ca-out; sets $endpoint to the URL and $emulator_pid. stop_emulator stops
# it; call it from the script's EXIT trap.

emulator_pid=
endpoint=

start_emulator() {
  local binary=$1 log=$2 line=
  shift 2
  exec 3< <(exec "$binary" --listen 127.0.0.1:0 "$@" 2>"$log")
  emulator_pid=$!
  if ! read -r -t 60 line <&3 || [[ $line != "listening on "* ]]; then
    echo "$(basename "$0"): the emulator did not start: ${line:-no output}" >&2
    cat "$log" >&2
    return 1
  fi
  endpoint=${line#listening on }
}

stop_emulator() {
  if [[ -n $emulator_pid ]]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
    emulator_pid=
  fi
}
