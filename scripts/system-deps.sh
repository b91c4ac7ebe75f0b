#!/usr/bin/env bash
# Debian packages that ftlab's tests and main job need, installed by the set-up (never by a test).
#   wordnet-base  WordNet 3.0 for synonym replacement (`synonyms` transformation, augmentation
#                 configs, their tests). ftlab copies it into ~/.cache/ftlab/nltk_data on first use.
#   postgresql    the server binaries (initdb, pg_ctl) for the tests of tuning workers sharing a
#                 PostgreSQL study (tests/tuning/test_postgres.py starts a throwaway server).
#   chromium      a headless browser that renders every kind of HTML report and checks it
#                 (tests/test_report_outputs.py: console errors, image sizes, screenshots).
# Run by `make quickstart` and `make test` (target system-deps). As root with apt-get it installs
# what is missing (apt-get update first, each step retried once, bounded time); otherwise it prints
# one line per missing package saying what to install and why, and the tests that need it skip
# with that reason. Never fails the set-up: ftlab itself runs without either package.
set -u

missing=()
why=()
if [ ! -f /usr/share/wordnet/data.noun ]; then
  missing+=(wordnet-base); why+=("WordNet data for the 'synonyms' transformation (embedding_synonyms needs none)")
fi
have_pg() {
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1
}
if ! have_pg; then
  missing+=(postgresql); why+=("a PostgreSQL server for the tuning-worker tests (ftlab tune --storage postgresql://)")
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium); why+=("a headless browser for the report rendering tests")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

say_missing() {  # $1: the reason they could not be installed
  for i in "${!missing[@]}"; do
    echo "ftlab set-up: Debian package ${missing[$i]} is missing ($1): ${why[$i]} is unavailable and its tests skip; install it with: sudo apt-get install -y --no-install-recommends ${missing[$i]}" >&2
  done
}

if [ "$(id -u)" != 0 ]; then say_missing "not root, cannot install"; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then say_missing "no apt-get on this system"; exit 0; fi

export DEBIAN_FRONTEND=noninteractive
try_twice() {  # a bounded command, retried once after a pause
  timeout "$1" "${@:2}" && return 0
  sleep 5
  timeout "$1" "${@:2}"
}
echo "ftlab set-up: installing Debian packages: ${missing[*]} (as root, apt-get)"
if ! try_twice 300 apt-get update -qq; then
  echo "ftlab set-up: apt-get update failed; trying the install with the package lists already here" >&2
fi
if try_twice 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  echo "ftlab set-up: installed ${missing[*]}"
else
  say_missing "apt-get install failed"
fi
exit 0
