# Sourced by the scripts beside it: stop on the first error, work from the repository root, build the CLI once
# (Release) and call it as R.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build -c Release src/Reasoner -v q -nologo
R() { dotnet src/Reasoner/bin/Release/net10.0/Reasoner.dll "$@"; }
