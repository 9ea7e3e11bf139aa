#!/usr/bin/env bash
# The one command that installs what the tests need and runs them all. .ci/run calls exactly this.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
# The suites start many in-process collector hosts and collector, Prometheus, Alertmanager and PostgreSQL processes.
# Without a bound the workstation GC lets garbage pile up to most of the machine's memory (18 GB seen on a 24 GB
# machine), so each .NET process gets a 5 GiB heap limit: the GC collects sooner, and a real leak fails loudly.
export DOTNET_GCHeapHardLimit=0x140000000

dotnet build PerfOtel.sln -c Release || exit 1

# One test project at a time: several at once on a 2-core machine starve each other's time-bounded end-to-end tests.
log=$(mktemp)
status=0
for project in tests/*/*.Tests.csproj; do
  echo "=== $project"
  dotnet test "$project" -c Release --no-build 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# One closing line in the plain format CI understands.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
if grep -q "Test Run Aborted" "$log"; then
  echo "a test host crashed (see above)"
  status=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
