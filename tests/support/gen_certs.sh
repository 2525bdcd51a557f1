#!/usr/bin/env bash
# gen_certs.sh DIR — generate the TLS test PKI for libhttpx's integration tests.
#
# Uses only the `openssl` CLI (works with OpenSSL 3.0.x, Debian bookworm). Keys are
# EC P-256 (PKCS#8 PEM, "BEGIN PRIVATE KEY"). All certs are X.509 v3 with SANs.
#
# Produces in DIR:
#   ca.pem / ca.key                       test CA (CA:TRUE, keyCertSign)
#   server.pem / server.key               SAN DNS:localhost, IP:127.0.0.1, signed by ca
#   wrong_host.pem / wrong_host.key       SAN DNS:wrong.example, signed by ca
#   expired.pem / expired.key             SAN localhost+127.0.0.1, signed by ca, 2020-01-01..2020-02-01
#   self_signed.pem / self_signed.key     SAN localhost+127.0.0.1, self-signed (not from ca)
#   client_ca.pem / client_ca.key         separate CA for client certificates
#   client.pem / client.key               CN=httpx test client, EKU clientAuth, signed by client_ca
#   other_client.pem / other_client.key   self-signed client cert (must be refused by mTLS)
#   server_chain.pem                      server.pem + ca.pem (full chain)
#   client_bundle.pem                     client.pem + client.key (for tools wanting one file)
# The expired certificate is made with `openssl ca -startdate/-enddate` (no faketime needed).
set -euo pipefail
DIR=${1:?usage: gen_certs.sh DIR}
mkdir -p "$DIR"
cd "$DIR"
command -v openssl >/dev/null || { echo "gen_certs.sh: openssl CLI missing (apt-get install openssl)" >&2; exit 1; }

# Minimal config so the system openssl.cnf never matters.
cat > req.cnf <<'CNF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[ v3_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ v3_server_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1
[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_client_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash

[ ca ]
default_ca = test_ca
[ test_ca ]
dir = ./cadb
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
commonName = supplied
CNF

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# self-signed root: NAME CN EXT
selfsigned() {
  key "$1.key"
  openssl req -new -x509 -config req.cnf -key "$1.key" -subj "/CN=$2" -days 3650 \
    -sha256 -extensions "$3" -set_serial "0x$(openssl rand -hex 8)" -out "$1.pem"
}
# leaf signed by a CA: NAME CN EXT CA
signed() {
  key "$1.key"
  openssl req -new -config req.cnf -key "$1.key" -subj "/CN=$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -days 3650 -sha256 \
    -set_serial "0x$(openssl rand -hex 8)" -extfile req.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr"
}

selfsigned ca          "httpx test CA"        v3_ca
selfsigned client_ca   "httpx test client CA" v3_ca
signed     server      "localhost"            v3_server  ca
signed     wrong_host  "wrong.example"        v3_wrong   ca
selfsigned self_signed "localhost"            v3_server_self
signed     client      "httpx test client"    v3_client  client_ca
selfsigned other_client "httpx other client"  v3_client_self

# Expired: `openssl ca` accepts explicit -startdate/-enddate in the past (OpenSSL 3.0 ok).
mkdir -p cadb/new
: > cadb/index.txt
openssl rand -hex 8 > cadb/serial
key expired.key
openssl req -new -config req.cnf -key expired.key -subj "/CN=localhost" -out expired.csr
openssl ca -batch -notext -config req.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
  -out expired.pem -startdate 20200101000000Z -enddate 20200201000000Z \
  -extfile req.cnf -extensions v3_server >/dev/null 2>ca.log || { cat ca.log >&2; exit 1; }
rm -rf expired.csr cadb ca.log

cat server.pem ca.pem > server_chain.pem
cat client.pem client.key > client_bundle.pem
chmod 0644 ./*.pem ./*.key

# Sanity checks (fail loudly rather than produce a broken PKI).
openssl verify -CAfile ca.pem server.pem >/dev/null
openssl verify -CAfile ca.pem wrong_host.pem >/dev/null
openssl verify -CAfile client_ca.pem client.pem >/dev/null
if openssl verify -CAfile ca.pem expired.pem >/dev/null 2>&1; then
  echo "gen_certs.sh: expired.pem unexpectedly verifies" >&2; exit 1
fi
echo "gen_certs.sh: certificates written to $DIR"
