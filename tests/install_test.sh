#!/bin/sh
# `meson install` puts the executable, its man page and its bash completion where
# they belong, and the completion completes. Usage: install_test.sh BUILD_DIR SOURCE_DIR
build=$1 src=$2
fail=0
dest=$(mktemp -d "${TMPDIR:-/tmp}/migchan-install.XXXXXX") || exit 1
trap 'rm -rf "$dest"' EXIT
if ! meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; then
  cat "$dest.log"; rm -f "$dest.log"; exit 1
fi
rm -f "$dest.log"
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$dest$prefix
for f in bin/migchan share/man/man1/migchan.1 share/bash-completion/completions/migchan.bash; do
  [ -f "$root/$f" ] || { echo "FAIL: meson install did not install $f"; fail=1; }
done
# The man page renders without warnings and documents every subcommand.
warnings=$(groff -man -Tutf8 -ww "$root/share/man/man1/migchan.1" 2>&1 >/dev/null)
[ -z "$warnings" ] || { echo "FAIL: groff warns about migchan.1: $warnings"; fail=1; }
for sub in show classify verify serve replay proxy check diff conform; do
  grep -q "^\.SS \"migchan $sub" "$root/share/man/man1/migchan.1" || { echo "FAIL: migchan.1 lacks $sub"; fail=1; }
done
# The completion, as bash runs it.
complete_words() {  # complete_words WORD...: what <TAB> after them offers
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _migchan; echo "${COMPREPLY[*]}"' \
    sh "$root/share/bash-completion/completions/migchan.bash" "$@"
}
[ "$(complete_words migchan sh)" = "show" ] || { echo "FAIL: 'migchan sh<TAB>': $(complete_words migchan sh)"; fail=1; }
[ "$(complete_words migchan verify --max-ch)" = "--max-channels" ] ||
  { echo "FAIL: 'migchan verify --max-ch<TAB>': $(complete_words migchan verify --max-ch)"; fail=1; }
case " $(complete_words migchan serve --classifier qemu-1) " in
  *" qemu-10.1 "*) ;;
  *) echo "FAIL: 'migchan serve --classifier qemu-1<TAB>': $(complete_words migchan serve --classifier qemu-1)"; fail=1 ;;
esac
[ "$(complete_words migchan help exit)" = "exit-codes" ] || { echo "FAIL: 'migchan help exit<TAB>'"; fail=1; }
# The licence meson.build declares is the one in LICENSE.
grep -q "license : 'GPL-2.0-or-later'" "$src/meson.build" || { echo "FAIL: meson.build's license changed"; fail=1; }
head -3 "$src/LICENSE" | grep -q "GNU GENERAL PUBLIC LICENSE" && sed -n 2p "$src/LICENSE" | grep -q "Version 2, June 1991" ||
  { echo "FAIL: LICENSE is not the GPL version 2"; fail=1; }
exit $fail
