#!/bin/sh
# virt-manager under Xvfb against a tagvirtd, driven by hand with xdotool and
# looked at with screenshots (how docs/clients.rst's images were made).
# Needs: virt-manager xvfb xdotool imagemagick dbus-x11 (apt-get install).
#
# Usage:
#   scripts/virt-manager-xvfb.sh start DIR SOCKET [VIRT-MANAGER ARGS...]
#       Xvfb (display :83 unless DISPLAY_NUM is set, 1280x1000), a D-Bus
#       session of its own, and virt-manager --no-fork connected to the
#       tagvirtd socket SOCKET; DIR keeps their pids, env.sh and vmm.log.
#       e.g. ... start /tmp/vmm /tmp/root/tagvirtd-sock --show-domain-editor NAME
#   scripts/virt-manager-xvfb.sh shot DIR FILE.png    the whole screen
#   scripts/virt-manager-xvfb.sh click DIR X Y        a left click at X,Y
#   scripts/virt-manager-xvfb.sh type DIR TEXT        keys typed
#   scripts/virt-manager-xvfb.sh stop DIR             ends what start started
set -eu

usage() {
    sed -n '2,17p' "$0" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1 dir=$2
shift 2

case $cmd in
start)
    [ $# -ge 1 ] || usage
    sock=$1
    shift
    mkdir -p "$dir/home"
    num=${DISPLAY_NUM:-83}
    Xvfb ":$num" -screen 0 1280x1000x24 >"$dir/xvfb.log" 2>&1 &
    echo $! >"$dir/xvfb.pid"
    dbus-daemon --session --fork --print-address=1 --print-pid=1 >"$dir/dbus.out"
    cat >"$dir/env.sh" <<EOF
export DISPLAY=:$num
export DBUS_SESSION_BUS_ADDRESS=$(head -n1 "$dir/dbus.out")
export GNOME_ACCESSIBILITY=1
export HOME=$dir/home
export LIBVIRT_DEFAULT_URI='qemu+unix:///system?socket=$sock'
EOF
    . "$dir/env.sh"
    sleep 1
    setsid virt-manager --debug --no-fork --connect "$LIBVIRT_DEFAULT_URI" "$@" \
        >"$dir/vmm.log" 2>&1 &
    echo $! >"$dir/vmm.pid"
    echo "started: . $dir/env.sh for DISPLAY and the URI; virt-manager's log is $dir/vmm.log"
    ;;
shot)
    [ $# -eq 1 ] || usage
    . "$dir/env.sh"
    import -window root "$1"
    ;;
click)
    [ $# -eq 2 ] || usage
    . "$dir/env.sh"
    xdotool mousemove "$1" "$2" click 1
    ;;
type)
    [ $# -eq 1 ] || usage
    . "$dir/env.sh"
    xdotool type "$1"
    ;;
stop)
    for f in vmm xvfb; do
        [ -f "$dir/$f.pid" ] && kill "$(cat "$dir/$f.pid")" 2>/dev/null || true
        rm -f "$dir/$f.pid"
    done
    [ -f "$dir/dbus.out" ] && kill "$(sed -n 2p "$dir/dbus.out")" 2>/dev/null || true
    rm -f "$dir/dbus.out"
    ;;
*)
    usage
    ;;
esac
