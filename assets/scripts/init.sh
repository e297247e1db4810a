# Helper functions for step scripts, compatible with wercker's wercker-init
# step. fail and setMessage write the calling step's message file, which werk
# shows as the reason when the step fails.

if [ -t 1 ] || [ -n "$WERK_COLOR" ]; then
	__werk_c_reset=$(printf '\033[0m')
	__werk_c_green=$(printf '\033[32m')
	__werk_c_yellow=$(printf '\033[33m')
	__werk_c_red=$(printf '\033[31m')
	__werk_c_blue=$(printf '\033[34m')
else
	__werk_c_reset= __werk_c_green= __werk_c_yellow= __werk_c_red= __werk_c_blue=
fi

success() { printf '%s%s%s\n' "$__werk_c_green" "$*" "$__werk_c_reset"; }
info() { printf '%s%s%s\n' "$__werk_c_blue" "$*" "$__werk_c_reset"; }
debug() { printf '%s\n' "$*"; }
warn() { printf '%swarning: %s%s\n' "$__werk_c_yellow" "$*" "$__werk_c_reset"; }
error() { printf '%serror: %s%s\n' "$__werk_c_red" "$*" "$__werk_c_reset"; }
setMessage() { printf '%s' "$*" >"$WERCKER_REPORT_MESSAGE_FILE"; }
fail() {
	printf '%sfailed: %s%s\n' "$__werk_c_red" "$*" "$__werk_c_reset"
	setMessage "$*"
	exit 1
}

if command -v shopt >/dev/null 2>&1; then
	shopt -s expand_aliases
fi
alias sudo=''
