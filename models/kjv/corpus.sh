#!/bin/sh
# Extract the training and held-out text of mycel's KJV model from Debian's
# bible-kjv-text package (the King James Version of 1611, public domain):
# one verse per line, references stripped; every 50th chapter (23 of the
# 1,189) is held out of training.
#
#   sudo apt-get install bible-kjv
#   sh models/kjv/corpus.sh DIR    # writes DIR/train.txt and DIR/heldout.txt
set -eu
dir=${1:-.}
if ! command -v bible >/dev/null 2>&1; then
	echo "corpus.sh: needs the bible command: sudo apt-get install bible-kjv" >&2
	exit 1
fi
mkdir -p "$dir"
bible -f Gen1:1-Rev22:21 | awk -v train="$dir/train.txt" -v held="$dir/heldout.txt" '
{
	ref = $1; sub(/:[0-9]+$/, "", ref)      # "Ge1:1" -> "Ge1": the chapter
	if (ref != prev) { chapter++; prev = ref }
	sub(/^[^ ]+ /, "")                       # drop the reference
	if (chapter % 50 == 0) print > held; else print > train
}'
