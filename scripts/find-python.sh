#!/usr/bin/env bash
# Print the path of a working Python interpreter of version $1 (for example
# 3.10), or exit 1.  pyenv's shims exist for every installed version but
# only run the ones that are selected, so its versions are looked at too.
set -uo pipefail
v=$1
candidates=("python$v")
if command -v pyenv >/dev/null 2>&1; then
    for dir in "$(pyenv root)"/versions/"$v".*/bin; do
        candidates+=("$dir/python$v")
    done
fi
candidates+=("/usr/bin/python$v" "/usr/local/bin/python$v")
for py in "${candidates[@]}"; do
    if path=$(command -v "$py" 2>/dev/null) && "$path" -c '' 2>/dev/null; then
        echo "$path"
        exit 0
    fi
done
exit 1
