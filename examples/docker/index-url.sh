#!/bin/sh
# Print a feed's index URL with a fresh credential in it (https://USER:SECRET@host/.../pypi/simple/),
# for one BuildKit secret. It is a secret: never echo it, never pass it as --build-arg or ENV.
#
#   sh index-url.sh https://pkgs.dev.azure.com/ORG/_packaging/FEED/pypi/simple/
#
# AZURE_ARTIFACTS_KEYRING names the command to run (default: azure-artifacts-keyring).
set -eu
feed=${1:?usage: index-url.sh FEED_URL}
# `token --json` prints {"username", "secret", "kind", "expires_at"}; it fails (exit 1, one line
# on stderr) when there is no silent way to a token, and `set -e` stops here then.
json=$(${AZURE_ARTIFACTS_KEYRING:-azure-artifacts-keyring} token --json "$feed")
printf '%s' "$json" | python3 -c '
import json, sys
from urllib.parse import quote

token = json.load(sys.stdin)
scheme, rest = sys.argv[1].split("://", 1)
rest = rest.rpartition("@")[2]  # a username already in the URL gives way to the credential
user, secret = quote(token["username"], safe=""), quote(token["secret"], safe="")
print("{}://{}:{}@{}".format(scheme, user, secret, rest))
' "$feed"
