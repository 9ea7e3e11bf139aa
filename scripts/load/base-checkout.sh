# Sourced by the before/after load scripts: an earlier commit checked out beside this one and built, so both builds run
# the same measurement on the same machine minutes.
#
#   base_checkout_start REF PROJECT   worktree of REF in $base_dir; builds PROJECT (a path in the repository) there
#                                     and in this checkout
#   base_checkout_remove              removes the worktree (call it from the script's EXIT trap)

base_checkout_start() {
  base_dir="$(mktemp -d /tmp/perfotel-base.XXXXXX)"
  git worktree add --detach "$base_dir" "$1" >/dev/null 2>&1
  echo "building $1 and the current checkout"
  dotnet build -c Release "$base_dir/$2" -v quiet -nologo >/dev/null
  dotnet build -c Release "$2" -v quiet -nologo >/dev/null
}

base_checkout_remove() {
  [[ -n "${base_dir:-}" ]] || return 0
  git worktree remove --force "$base_dir" >/dev/null 2>&1 || rm -rf "$base_dir"
}
