#!/usr/bin/env bash
# Harvest gettext .mo catalogs (fr, de, es) from Debian 12 packages for the tolk demo model.
#
#   tools/demo_model/harvest_catalogs.sh [WORKDIR]     (default WORKDIR: build/demo-data)
#
# For every package in PACKAGES below (a fixed list, so runs are reproducible; the versions are
# whatever apt's candidate is, and they are recorded):
#   * `apt-get download` the .deb into WORKDIR/debs (skipped when that exact version is there),
#   * extract only */{fr,de,es}/LC_MESSAGES/*.mo and usr/share/doc/*/copyright into
#     WORKDIR/extract/<package>/ (dpkg-deb --fsys-tarfile | tar; nothing is installed),
#   * record package, version, license and catalog counts in
#     models/tolk-demo-en-fr-de-es/DATA_SOURCES.tsv.
# Needs apt-get (with current package lists), dpkg-deb, tar and python3. No root needed unless the
# apt lists must be refreshed (run `apt-get update` yourself if apt-get download cannot find a
# package).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:-$ROOT/build/demo-data}"
DEBS="$WORK/debs"
EXTRACT="$WORK/extract"
MODEL_DIR="$ROOT/models/tolk-demo-en-fr-de-es"
SOURCES_TSV="$MODEL_DIR/DATA_SOURCES.tsv"
LANGS=(fr de es)

# Debian 12 (bookworm) packages that really ship /usr/share/locale/{fr,de,es}/LC_MESSAGES/*.mo
# (checked with dpkg-deb -c). libreoffice-l10n-* ship theirs under
# /usr/lib/libreoffice/program/resource/<lang>/LC_MESSAGES/.
PACKAGES=(
  aisleriot akregator anjuta-common apt aptitude-common ark atril-common audacity-data baobab
  bash binutils-common bison blueman brasero-common caja-common catfish cheese-common
  claws-mail-i18n coreutils darktable dconf-editor debconf-i18n deja-dup diffutils digikam-data
  dolphin dpkg e2fsprogs-l10n easytag elisa engrampa-common eog eom-common epiphany-browser-data
  evince-common evolution-common evolution-data-server-common file-roller filezilla-common
  findutils five-or-more flex four-in-a-row freeciv-data fwupd galculator gcc-12-locales gdm3
  geany-common gedit-common gettext gettext-base gigolo gimp-data gnome-boxes gnome-builder
  gnome-calculator gnome-calendar gnome-characters gnome-chess gnome-clocks gnome-contacts
  gnome-control-center-data gnome-desktop3-data gnome-disk-utility gnome-font-viewer
  gnome-games-app gnome-initial-setup gnome-keyring gnome-klotski gnome-logs gnome-maps
  gnome-mines gnome-music gnome-nibbles gnome-photos gnome-robots gnome-screenshot
  gnome-session-common gnome-settings-daemon-common gnome-shell-common gnome-software-common
  gnome-sudoku gnome-system-monitor gnome-terminal-data gnome-tetravex gnome-text-editor
  gnome-tweaks gnome-weather gnucash-common gnumeric-common gnupg-l10n gpa gramps grep
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-good gthumb-data gucharmap gwenview
  hexchat-common iagno inkscape iso-codes k3b-i18n kcalc kdeconnect kdenlive-data kdepim-runtime
  kfind kget kleopatra kmag kmahjongg kmail konsole korganizer kpat krita-l10n krusader ksudoku
  ktexteditor-data ktorrent-data kwin-data libc-l10n libfm-data libgdk-pixbuf2.0-common
  libglib2.0-data libgoa-1.0-common libgstreamer1.0-0 libgtk-3-common libgtk-4-common
  libgtk2.0-common libgtksourceview-4-common libgweather-4-common libkf5akonadi-data
  libkf5calendarsupport-data libkf5configwidgets-data libkf5i18n-data libkf5mailcommon-data
  libkf5newstuff-data libkf5textwidgets-data libkf5wallet-data libkf5xmlgui-data
  libreoffice-l10n-de libreoffice-l10n-es libreoffice-l10n-fr libsane-common libvte-2.91-common
  libxfce4ui-common lightdm-gtk-greeter lightsoff lxterminal m4 make man-db marco-common
  mate-control-center-common mate-desktop-common mate-media-common mate-panel-common
  mate-power-manager-common mate-settings-daemon-common mate-terminal-common mate-utils-common
  meld modemmanager mousepad mypaint-data nano nautilus-data network-manager
  network-manager-gnome okular orca packagekit parole partitionmanager pavucontrol pcmanfm
  pidgin-data pitivi plasma-desktop-data plasma-workspace-data pluma-common poedit-common procps
  psmisc pulseaudio quadrapassel remmina-common rhythmbox-data ristretto seahorse sed
  shared-mime-info shotwell-common simple-scan skanlite sound-juicer soundconverter sudo
  synaptic system-config-printer-common systemsettings tali tar texinfo thunar-data totem-common
  tuxpaint-data udisks2 util-linux-locales vinagre vlc-l10n wget xfburn xfce4-appfinder
  xfce4-notifyd xfce4-panel xfce4-power-manager-data xfce4-screenshooter xfce4-session
  xfce4-settings xfce4-taskmanager xfce4-terminal xfce4-whiskermenu-plugin xfdesktop4-data xfwm4
  xkb-data yelp
)

mkdir -p "$DEBS" "$EXTRACT" "$MODEL_DIR"

candidate_version() {  # the version apt would download
  apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ && !v {v = $2} END {print v}' || true
}

deb_for() {  # path of the downloaded .deb for package $1 version $2, or empty
  local enc="${2//:/%3a}" m
  m=$(compgen -G "$DEBS/${1}_${enc}_*.deb" || true)
  echo "${m%%$'\n'*}"
}

# 1. Download.
missing=()
declare -A VERSION
while read -r p v; do VERSION[$p]="$v"; done < <(
  apt-cache show --no-all-versions "${PACKAGES[@]}" 2>/dev/null |
    awk '/^Package:/ {p = $2} /^Version:/ && !(p in seen) {print p, $2; seen[p] = 1}' || true)
for p in "${PACKAGES[@]}"; do
  v="${VERSION[$p]:-}"
  if [[ -z "$v" ]]; then echo "harvest: apt knows no package $p (run apt-get update?)" >&2; exit 1; fi
  [[ -n "$(deb_for "$p" "$v")" ]] || missing+=("$p=$v")
done
if ((${#missing[@]})); then
  echo "harvest: downloading ${#missing[@]} package(s) into $DEBS"
  (cd "$DEBS" && apt-get download -q "${missing[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
fi
for p in "${PACKAGES[@]}"; do
  [[ -n "$(deb_for "$p" "${VERSION[$p]}")" ]] || { echo "harvest: download of $p failed" >&2; exit 1; }
done

# 2. Extract (only the catalogs of our languages and the copyright file).
patterns=()
for l in "${LANGS[@]}"; do patterns+=("*/$l/LC_MESSAGES/*.mo"); done
patterns+=("usr/share/doc/*/copyright")
for p in "${PACKAGES[@]}"; do
  deb="$(deb_for "$p" "${VERSION[$p]}")"
  stamp="$EXTRACT/$p/.extracted-from"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$(basename "$deb")" ]]; then continue; fi
  rm -rf "$EXTRACT/$p"; mkdir -p "$EXTRACT/$p"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$EXTRACT/$p" --wildcards --no-anchored "${patterns[@]}" 2>/dev/null || true
  # A doc dir that is a symlink to another package's (debconf-i18n -> debconf, gcc-12-locales ->
  # gcc-12-base): fetch that package's copyright file too.
  if [[ ! -f "$EXTRACT/$p/usr/share/doc/$p/copyright" ]]; then
    target="$(dpkg-deb -c "$deb" | awk -v d="./usr/share/doc/$p" '$6 == d && $7 == "->" && !t {t = $8} END {print t}' || true)"
    if [[ -n "$target" ]]; then
      tv="$(candidate_version "$target")"
      [[ -n "$(deb_for "$target" "$tv")" ]] || (cd "$DEBS" && apt-get download -q "$target=$tv" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
      tdeb="$(deb_for "$target" "$tv")"
      mkdir -p "$EXTRACT/$p/usr/share/doc/$p"
      dpkg-deb --fsys-tarfile "$tdeb" | tar -xO --wildcards --no-anchored "usr/share/doc/$target/copyright" \
        > "$EXTRACT/$p/usr/share/doc/$p/copyright" 2>/dev/null || true
    fi
  fi
  basename "$deb" > "$stamp"
done

# 3. DATA_SOURCES.tsv (sorted by package; license = first DEP-5 "License:" line, else a summary).
{
  for p in "${PACKAGES[@]}"; do printf '%s\t%s\n' "$p" "${VERSION[$p]}"; done
} | python3 -c '
import os, re, sys
extract, langs = sys.argv[1], sys.argv[2].split()
def license_of(pkg):
    path = os.path.join(extract, pkg, "usr/share/doc", pkg, "copyright")
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return "unknown (no copyright file)"
    # DEP-5: the License of the "Files: *" paragraph, else the first non-empty License: line.
    paras = re.split(r"\n\s*\n", text)
    for para in paras:
        if re.search(r"^Files:\s*\*\s*$", para, re.M):
            m = re.search(r"^License:[ \t]*(\S.*)$", para, re.M)
            if m:
                return m.group(1).strip()
    m = re.search(r"^License:[ \t]*(\S.*)$", text, re.M)
    if m:
        return m.group(1).strip()
    # Free-form file: the license families it names, in order of first mention.
    t = re.sub(r"\s+", " ", text)
    found = []
    for rx, name in ((r"GNU (?:Lesser|Library) General Public License|\bLGPL\b", "LGPL"),
                     (r"GNU General Public License|(?<![L/])\bGPL\b|GNU/GPL", "GPL"),
                     (r"\bMIT\b|X11 license|X Consortium", "MIT/X11"),
                     (r"\bBSD\b", "BSD")):
        mm = re.search(rx, t)
        if mm:
            # the rest of the sentence, up to the next license name
            win = re.split(r"\.\s|GNU|GPL|Free Documentation|FDL|BSD|MIT",
                           t[mm.end():mm.end() + 300])[0]
            v = re.search(r"(?:version|\bv)\s*(\d(?:\.\d)?)", win)
            later = v and re.search(r"or \(?at your option\)? any later|or (?:any )?later", win)
            found.append((mm.start(), name + ("-" + v.group(1) + ("+" if later else "") if v else "")))
    if found:
        return " / ".join(n for _, n in sorted(found)) + " (summary of non-DEP-5 copyright file)"
    return "see copyright file (no recognisable license line)"
def count(pkg, lang):
    n = 0
    for d, _, files in os.walk(os.path.join(extract, pkg)):
        if d.endswith("/" + lang + "/LC_MESSAGES"):
            n += sum(f.endswith(".mo") for f in files)
    return n
rows = []
for line in sys.stdin:
    pkg, ver = line.rstrip("\n").split("\t")
    rows.append((pkg, ver, license_of(pkg).replace("\t", " "), *[str(count(pkg, l)) for l in langs]))
rows.sort()
print("\t".join(["package", "version", "license"] + ["mo_" + l for l in langs]))
for r in rows:
    print("\t".join(r))
' "$EXTRACT" "${LANGS[*]}" > "$SOURCES_TSV.tmp"
mv "$SOURCES_TSV.tmp" "$SOURCES_TSV"

n_mo=$(find "$EXTRACT" -name '*.mo' | wc -l)
echo "harvest: ${#PACKAGES[@]} packages, $n_mo catalogs under $EXTRACT; sources in $SOURCES_TSV"
