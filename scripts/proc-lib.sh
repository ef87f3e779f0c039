# Sourced by the benchmarks and the soak (through scripts/serve-lib.sh too):
# what a process costs, read from /proc.
#   rss_kb PID [VmRSS|VmHWM]   resident memory in KiB
#   cpu_ticks PID...           user + system CPU time of the processes and
#                              their threads, in clock ticks (getconf CLK_TCK)
rss_kb() {
	awk -v k="${2:-VmRSS}:" '$1 == k { print $2 }' "/proc/$1/status"
}

cpu_ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
