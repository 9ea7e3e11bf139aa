# Sourced by the load scripts that watch the collector an ingest-load driver starts.
#
#   collector_pid_of DRIVER_PID   waits up to 120 s for the driver's child whose argv[1] is PerfOtel.Collector.dll and
#                                 prints its PID (pgrep -f would also match the driver, or another session's collector);
#                                 fails, naming the driver, when none appears
collector_pid_of() {
  local p
  for _ in $(seq 1 120); do
    sleep 1
    for p in /proc/[0-9]*; do
      [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ] || continue
      case "$(tr '\0' '\n' < "$p/cmdline" 2>/dev/null | sed -n 2p)" in
        *PerfOtel.Collector.dll) echo "${p#/proc/}"; return 0 ;;
      esac
    done
  done
  echo "no collector found under the driver $1" >&2
  return 1
}
