#!/usr/bin/env bash
# Installs the Debian packages the test suite uses as real, independent peers:
#   python3-ruamel.yaml  the YAML library DVC writes dvc.lock and .dvc files with (golden bytes)
#   git, git-lfs         git revisions for gc; git-lfs is the peer of the add benchmark
#   golang-go            Go's archive/tar builds reference ModelKit layers
#   skopeo               an independent OCI client that copies what Cairn writes
#   oci-image-tool       validates the OCI layout of the ModelKit store
#   docker-registry      CNCF distribution, the registry the transport tests push to
#   python3-onnx         ONNX's checker for the models examples/quickstart and examples/sklearn
#                        export; onnx.helper builds examples/sklearn's graph
#   python3-sklearn, python3-pandas
#                        examples/sklearn trains with them (test/examples/sklearn.test.ts)
#   openssl              makes the CA, server and client certificates of the TLS registry tests
#   prometheus           the PromQL analysis gate runs its queries against a real Prometheus
#   wrk                  loads `cairn serve` in the serving tests and benchmarks
# Needs root (CI is root); does nothing for packages already installed.
set -euo pipefail
packages=(python3-ruamel.yaml python3-onnx python3-sklearn python3-pandas git git-lfs golang-go skopeo oci-image-tool docker-registry openssl prometheus wrk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
