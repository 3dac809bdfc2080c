#!/usr/bin/env bash
# Jupyter with the pinned .NET kernel, as the notebook tests and a JupyterLab/nbconvert user run it:
# Debian's nbconvert/nbclient/ipykernel/jupyter-client and the kernel specs of the pinned dotnet-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v jupyter-nbconvert >/dev/null 2>&1 || ! /usr/bin/python3 -c "import jupyter_client, nbclient" 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client >/dev/null
fi
dotnet tool restore >/dev/null
dotnet interactive jupyter install >/dev/null 2>&1
echo "Jupyter: $(jupyter kernelspec list | grep -c '\.net-') .NET kernel specs registered"
