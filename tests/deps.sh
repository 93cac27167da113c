# deps.sh - sourced by tests/run.sh and examples/demo.sh: installs the Debian
# packages feedd needs to build and test, only those not installed yet.
feedd_install_deps() {
	local pkgs="build-essential cmake pkg-config libcurl4-openssl-dev libexpat1-dev
		libevent-dev libsqlite3-dev zlib1g-dev check sqlite3 python3 curl systemd $*"
	local missing=()
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "Installing: ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# feedd_build DIR [CMAKE_ARGS...]: configure and build everything in DIR.
# FEEDD_TARGETS="feedd feedctl" builds only those targets.
feedd_build() {
	local dir=$1
	shift
	cmake -S . -B "$dir" -DFEEDD_WERROR=ON "$@" >/dev/null
	local t targets=()
	for t in ${FEEDD_TARGETS:-}; do
		targets+=(--target "$t")
	done
	cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
}
