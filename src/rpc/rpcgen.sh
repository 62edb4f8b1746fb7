#!/bin/sh
# rpcgen.sh -h|-c IN.x OUT: run rpcgen from the .x file's folder so the
# generated C includes its header by bare name, not by the source path.
set -e
mode=$1
in=$2
out=$3
outdir=$(cd "$(dirname "$out")" && pwd)
cd "$(dirname "$in")"
# rpcgen refuses to write over its earlier output: a rebuild after an edit of the .x
rm -f "$outdir/$(basename "$out")"
exec rpcgen "$mode" -o "$outdir/$(basename "$out")" "$(basename "$in")"
