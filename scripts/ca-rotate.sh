#!/usr/bin/env bash
# Rotates keybroker's issuing CA: prepare a successor, then activate it (the former active issuer retires and
# stays in the trust bundle until it expires). Plain bash over the keybroker CLI and openssl; safe from cron:
# one run at a time (flock), every step idempotent, so a failed or interrupted run is simply run again.
#
# usage: scripts/ca-rotate.sh [--when-due] [--root-dir DIR] [--signed-cert FILE] [--csr-out FILE] [--days N]
#   --when-due         follow the schedule: prepare at 1/2 and activate at 5/6 of the active issuer's life
#                      (for cron); without it, rotate now
#   --root-dir DIR     offline root at hand (e.g. mounted media): DIR/cert.pem and DIR/key.pem sign the
#                      issuer CSR with `openssl x509 -req`
#   --signed-cert FILE offline root: the certificate the root signed elsewhere for the pending request
#   --csr-out FILE     offline root: also copy the pending CSR here
#   --days N           validity of an issuer signed with --root-dir (default 365)
# environment: KEYBROKER_HOME (CA home is $KEYBROKER_HOME/ca, or KEYBROKER_CA_DIR), KEYBROKER (the command,
#   default: node <checkout>/bin/keybroker.js)
# exit codes: 0 done or nothing due; 1 failure; 2 usage; 4 another rotation (or keybroker process) holds the lock;
#   10 a CSR waits for the offline root's signature (its path is printed)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
home=${KEYBROKER_HOME:-$(dirname "$here")}
ca_dir=${KEYBROKER_CA_DIR:-$home/ca}
read -r -a keybroker <<< "${KEYBROKER:-node $(dirname "$here")/bin/keybroker.js}"

when_due=0 root_dir='' signed_cert='' csr_out='' days=365
usage() { echo "usage: $0 [--when-due] [--root-dir DIR] [--signed-cert FILE] [--csr-out FILE] [--days N]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --when-due) when_due=1 ;;
    --root-dir) [ $# -ge 2 ] || usage; root_dir=$2; shift ;;
    --signed-cert) [ $# -ge 2 ] || usage; signed_cert=$2; shift ;;
    --csr-out) [ $# -ge 2 ] || usage; csr_out=$2; shift ;;
    --days) [ $# -ge 2 ] || usage; days=$2; shift ;;
    -h|--help) usage ;;
    *) echo "$0: unknown argument $1" >&2; usage ;;
  esac
  shift
done
[[ "$days" =~ ^[1-9][0-9]*$ ]] || { echo "$0: --days must be a positive integer" >&2; exit 2; }

log() { echo "ca-rotate: $*" >&2; }
fail() { log "$*"; exit 1; }

[ -f "$ca_dir/root/cert.pem" ] || fail "no CA in $ca_dir (run: keybroker ca init)"
exec 9>"$ca_dir/.rotate.lock"
flock -n 9 || { log "another rotation is running (lock $ca_dir/.rotate.lock)"; exit 4; }

due=()
[ "$when_due" = 1 ] && due=(--if-due)

kb() { "${keybroker[@]}" "$@"; }

has_prepared() { [[ $(kb ca status --json) == *'"state": "prepared"'* ]]; }

# Field "$1" of the one-object JSON the CLI printed on stdin (string values only).
json_field() { sed -n "s/^ *\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n 1; }

sign_with_openssl() { # csr cert
  local extensions status=0
  extensions=$(mktemp)
  cat > "$extensions" <<'EXT'
[issuer]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT
  openssl x509 -req -in "$1" -CA "$root_dir/cert.pem" -CAkey "$root_dir/key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha384 \
    -extfile "$extensions" -extensions issuer -out "$2.tmp" 2>/dev/null || status=1
  rm -f "$extensions"
  [ "$status" = 0 ] && mv "$2.tmp" "$2"
}

prepare_online() {
  if has_prepared; then log "a prepared issuer exists"; return 0; fi
  kb ca prepare "${due[@]}" >&2
}

prepare_offline() {
  if has_prepared; then log "a prepared issuer exists"; return 0; fi
  if [ -n "$signed_cert" ]; then
    kb ca import-issuer --cert "$signed_cert" >&2
    return 0
  fi
  local request id csr
  request=$(kb ca request-issuer --json "${due[@]}")
  id=$(json_field id <<< "$request")
  if [ -z "$id" ]; then log "no successor due yet"; return 0; fi
  csr=$(json_field csr <<< "$request")
  [ -n "$csr_out" ] && cp "$csr" "$csr_out" && csr=$csr_out
  if [ -z "$root_dir" ]; then
    log "issuer request $id waits for the root's signature: sign $csr where the root key is"
    log "  (keybroker ca sign-issuer --root ROOT_DIR --csr $csr --out issuer.pem, or openssl x509 -req),"
    log "  then run: $0 --signed-cert issuer.pem"
    echo "$csr"
    exit 10
  fi
  local cert="$ca_dir/issuers/$id/signed.pem"
  sign_with_openssl "$csr" "$cert" || fail "openssl could not sign $csr with the root in $root_dir"
  kb ca import-issuer --cert "$cert" >&2
}

if [ -f "$ca_dir/root/key.pem" ]; then prepare_online; else prepare_offline; fi

# Exit code 3 is the state machine's "nothing prepared to activate" (its reason is on stderr): not a failure here.
status=0
kb ca activate "${due[@]}" >&2 || status=$?
case "$status" in
  0) ;;
  3) log "nothing activated" ;;
  4) exit 4 ;;
  *) exit 1 ;;
esac
