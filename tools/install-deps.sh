#!/usr/bin/env bash
# Installs the Debian packages kiln needs that are missing (run as root, or with sudo available).
set -euo pipefail
packages=(cmake ninja-build g++ pkg-config libopenblas-dev libstb-dev libxlsxwriter-dev catch2 nlohmann-json3-dev
  zlib1g-dev libboost-context-dev dataset-fashion-mnist)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "kiln: installing missing packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
