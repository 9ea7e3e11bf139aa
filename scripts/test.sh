#!/usr/bin/env bash
# The one command that installs what the tests need and runs them all. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1

dotnet build PerfOtel.sln -c Release
dotnet test PerfOtel.sln -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee /tmp/perfotel-test.log
status=${PIPESTATUS[0]}

# One closing line in the plain format CI understands.
passed=$(grep -Eo 'Passed: +[0-9]+' /tmp/perfotel-test.log | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' /tmp/perfotel-test.log | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' /tmp/perfotel-test.log | awk '{s+=$2} END {print s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
