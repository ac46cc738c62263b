package attach

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// calledSymbols are the functions gdb calls in the process.
var calledSymbols = []string{
	"Py_IsInitialized", "PyGILState_Check", "PyGILState_Ensure", "PyGILState_Release",
	"PyRun_SimpleString", "Py_AddPendingCall", "mmap", "munmap",
}

// finalizingSymbols tell whether the interpreter is shutting down: one of
// them is there (3.13 made it public).
var finalizingSymbols = []string{"Py_IsFinalizing", "_Py_IsFinalizing"}

// resolve finds the addresses of calledSymbols in the process from the
// dynamic symbols of its executable and libraries (maps says where each is
// mapped), so that gdb looks none up while the process is stopped. Those
// not found are left out: gdb then looks them up itself.
func resolve(pid int, exe string, maps string) map[string]uint64 {
	want := map[string]bool{}
	for _, s := range append(calledSymbols, finalizingSymbols...) {
		want[s] = true
	}
	out := map[string]uint64{}
	seen := map[string]bool{}
	for _, line := range strings.Split(maps, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || strings.Trim(f[2], "0") != "" {
			continue
		}
		path := strings.Join(f[5:], " ")
		if seen[path] || !(path == exe || libPython.MatchString(path) || libC.MatchString(path)) {
			continue
		}
		seen[path] = true
		start, _, _ := strings.Cut(f[0], "-")
		base, err := strconv.ParseUint(start, 16, 64)
		if err != nil {
			continue
		}
		file := fmt.Sprintf("/proc/%d/root%s", pid, path)
		if path == exe {
			file = fmt.Sprintf("/proc/%d/exe", pid)
		}
		for name, addr := range symbolsIn(file, base, want) {
			if _, ok := out[name]; !ok {
				out[name] = addr
			}
		}
	}
	return out
}

// symbolsIn returns the addresses of the wanted symbols defined in the ELF
// file mapped from offset 0 at base.
func symbolsIn(path string, base uint64, want map[string]bool) map[string]uint64 {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var bias uint64
	if f.Type == elf.ET_DYN {
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && p.Off == 0 {
				bias = base - (p.Vaddr &^ 0xfff)
				break
			}
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return nil
	}
	out := map[string]uint64{}
	for _, s := range syms {
		if want[s.Name] && s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			out[s.Name] = bias + s.Value
		}
	}
	return out
}
