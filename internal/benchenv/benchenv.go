// Package benchenv describes the machine and the source a benchmark or a
// soak ran on (CPU, cores, memory, load, commit, module versions) and
// reads a process's memory from /proc, for the programs under build/.
package benchenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
)

// CPUModel is the first "model name" of /proc/cpuinfo.
func CPUModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// NProc is what nproc says: the cores this process may use.
func NProc() string {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// MemTotal is the machine's memory, "24 GiB RAM".
func MemTotal() string {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.0f GiB RAM", kb/(1<<20))
		}
	}
	return "memory unknown"
}

// LoadAvg is the 1-minute load average.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

// Revision names the commit of the working tree, and whether tracked
// files differ from it (read-only git: no index refresh). BENCHMARKS.md
// does not count: a script that measures twice has written its first
// section into it by the second.
func Revision() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "commit unknown"
	}
	rev := "commit " + strings.TrimSpace(string(out))
	st := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)BENCHMARKS.md")
	st.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	if out, err := st.Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}

// ModVersions lists the versions of the modules in want (module path ->
// short name) this program was built with: "paho v1.5.1, pebble v2.1.7".
func ModVersions(want map[string]string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "module versions unknown"
	}
	var parts []string
	for _, d := range bi.Deps {
		if name, ok := want[d.Path]; ok {
			parts = append(parts, name+" "+d.Version)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// ProcStatus reads the kB values of /proc/<pid>/status (VmRSS, VmHWM, ...).
func ProcStatus(pid int) (map[string]int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				out[strings.TrimSuffix(f[0], ":")] = v
			}
		}
	}
	return out, nil
}
