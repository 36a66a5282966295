#!/usr/bin/env bash
# Installs the Debian packages SchoolBatch needs, only those missing. Usage: install-deps.sh run|test
set -euo pipefail
want=(libturbojpeg0-dev pkg-config libsqlite3-dev zlib1g-dev libmimalloc-dev)
if [ "${1:-run}" = "test" ]; then
  want+=(postgresql chromium chromium-driver fonts-wqy-zenhei python3-pip unzip)
fi
missing=()
for package in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-run}" = "test" ]; then
  python3 -c "import selenium, pytest" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check selenium pytest
fi
# The Swift packages, from the machine's mirror. Fetching them in parallel from the shared cache once failed here
# with "already exists unexpectedly" (a new checkout, the cache left by an earlier one): a second try from an empty
# .build/repositories then succeeds.
if ! swift package resolve >/dev/null 2>&1; then
  echo "Swift package resolution failed once; trying again from an empty .build/repositories"
  rm -rf .build/repositories .build/checkouts
  swift package resolve
fi
