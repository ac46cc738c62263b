# Runs inside gdb for 'objgraph snapshot PID' (see docs/attach.md): attaches
# to the process, puts the loader's text in a page of its own and has the
# interpreter run it at a safe point, then detaches. Its parameters are in
# the JSON file named by OBJGRAPH_ATTACH_PARAMS; what it did is written, as
# JSON, to the file named there as "report". Lines starting "phase: " on
# standard output say what it is doing.
import json
import os
import time

import gdb

P = json.load(open(os.environ["OBJGRAPH_ATTACH_PARAMS"]))
R = {"method": "", "error": "", "cause": "", "thread": 0, "syscall": -1,
     "attach_seconds": 0.0, "stopped_seconds": 0.0, "total_seconds": 0.0, "threads": []}

# x86-64 system calls a thread waits in while it holds no lock of the C
# library's: sleeps, waits for descriptors, reads, accepts and waits for
# children or signals. futex (202) is not one: a thread in it may be waiting
# for a lock inside malloc, or for the GIL.
BLOCKING = {
    0: "read", 7: "poll", 17: "pread64", 19: "readv", 23: "select", 34: "pause",
    35: "nanosleep", 43: "accept", 45: "recvfrom", 47: "recvmsg", 61: "wait4",
    128: "rt_sigtimedwait", 130: "rt_sigsuspend", 230: "clock_nanosleep", 232: "epoll_wait",
    247: "waitid", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait", 288: "accept4",
    299: "recvmmsg", 441: "epoll_pwait2",
}
FUTEX = 202
# what rax holds when a thread was stopped inside a system call it will
# restart: -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK
RESTARTING = (-512, -513, -514, -516)
EINTR = 4

# The functions are called by address where objgraph found them in the ELF
# files' dynamic symbols, so that nothing is looked up while the process is
# stopped.
def fn(name, proto):
    """The function name as an expression of type proto (a function pointer
    type)."""
    a = P.get("symbols", {}).get(name)
    return "((%s)%d)" % (proto, a) if a else "((%s)%s)" % (proto, name)


unlocked = [0.0]  # seconds spent in calls during which every thread ran
T0 = [time.monotonic()]


def step(name):
    """Notes how long the step that ends here took."""
    t = time.monotonic()
    R.setdefault("steps", []).append([name, round(t - T0[0], 6)])
    T0[0] = t


def phase(s):
    print("phase: " + s, flush=True)


def value(expr):
    try:
        return int(gdb.parse_and_eval("(long)(%s)" % expr))
    except gdb.error as e:
        raise gdb.error("%s: %s" % (expr, e))


def call(expr, others_run):
    """An inferior call on the selected thread; with others_run, every
    thread runs meanwhile (the call may wait for the GIL or a lock another
    thread holds), else only this one."""
    gdb.execute("set scheduler-locking " + ("off" if others_run else "on"))
    t = time.monotonic()
    try:
        v = gdb.parse_and_eval(expr)
        return 0 if v.type.code == gdb.TYPE_CODE_VOID else int(v.cast(gdb.lookup_type("long")))
    except gdb.error as e:
        raise gdb.error("%s: %s" % (expr, e))
    finally:
        if others_run:
            unlocked[0] += time.monotonic() - t
        gdb.execute("set scheduler-locking off")


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def survey(inf):
    """Where each thread stopped: pc, system call number and result."""
    out = []
    for t in sorted(inf.threads(), key=lambda t: t.num):
        t.switch()
        pc = value("$pc")
        try:
            insn = bytes(inf.read_memory(pc - 2, 2))
        except gdb.MemoryError:
            insn = b""
        out.append({"num": t.num, "lwp": t.ptid[1], "pc": pc, "in_syscall": insn == b"\x0f\x05",
                    "nr": signed(value("$orig_rax")), "rax": signed(value("$rax"))})
    return out


def select(inf, num):
    for t in inf.threads():
        if t.num == num:
            t.switch()
            return
    raise RuntimeError("thread %d is gone" % num)


def inject(inf):
    if not inf.architecture().name().startswith("i386:x86-64"):
        R["cause"] = "arch"
        raise RuntimeError("attaching supports x86-64 only, not " + inf.architecture().name())
    step("go")
    threads = survey(inf)
    R["threads"] = threads
    step("survey")
    pid = inf.pid
    main = next((t for t in threads if t["lwp"] == pid), threads[0])
    select(inf, main["num"])
    if call(fn("Py_IsInitialized", "int(*)(void)") + "()", False) == 0:
        R["cause"] = "uninitialized"
        raise RuntimeError("the interpreter is not initialized (still starting, or shutting down)")
    # A thread that takes the GIL while the interpreter shuts down is ended
    # there and then (3.8-3.13): none is borrowed then.
    syms = P.get("symbols") or {}
    fin = next((n for n in ("Py_IsFinalizing", "_Py_IsFinalizing") if syms.get(n)), None)
    if fin and call(fn(fin, "int(*)(void)") + "()", False) != 0:
        R["cause"] = "uninitialized"
        raise RuntimeError("the interpreter is shutting down")
    step("initialized")
    loader = P["loader"].encode() + b"\0"
    size = (len(loader) + 4095) & ~4095
    # The page the loader's text lives in comes from the kernel, not from
    # malloc: mmap is a bare system call, safe wherever the thread stopped.
    addr = call(fn("mmap", "long(*)(long,long,long,long,long,long)") + "(0,%d,3,34,-1,0)" % size, False)
    if addr < 0 or addr == (1 << 64) - 1:
        raise RuntimeError("mmap in the target failed")
    inf.write_memory(addr, loader)
    step("mmap")
    # A thread waiting in a blocking system call without the GIL runs the
    # loader the way a C callback would: PyGILState_Ensure, the loader (it
    # starts a thread and returns), PyGILState_Release.
    for t in sorted(threads, key=lambda t: t["lwp"] != pid):
        if not (t["in_syscall"] and t["nr"] in BLOCKING and t["rax"] in RESTARTING):
            continue
        select(inf, t["num"])
        if call(fn("PyGILState_Check", "int(*)(void)") + "()", False) != 0:
            continue
        step("gilcheck")
        phase("waiting for the GIL")
        st = call(fn("PyGILState_Ensure", "int(*)(void)") + "()", True)
        try:
            rc = call(fn("PyRun_SimpleString", "int(*)(char*)") + "((char*)%d)" % addr, True)
        finally:
            call(fn("PyGILState_Release", "void(*)(int)") + "(%d)" % st, True)
        step("loader")
        call(fn("munmap", "long(*)(long,long)") + "(%d,%d)" % (addr, size), False)
        step("munmap")
        R["method"] = "thread"
        R["thread"] = t["lwp"]
        R["syscall"] = t["nr"]
        if rc != 0:
            raise RuntimeError("the loader failed to start a thread in the target")
        return
    # Otherwise the main thread runs it between two bytecodes, as a pending
    # call. The page stays: the call may run after detaching.
    select(inf, main["num"])
    rc = call(fn("Py_AddPendingCall", "int(*)(void*,void*)") + "(%s,(void*)%d)" % (fn("PyRun_SimpleString", "void*"), addr), True)
    if rc != 0:
        raise RuntimeError("Py_AddPendingCall failed (its queue is full)")
    step("pending")
    R["method"] = "pending"
    R["thread"] = main["lwp"]
    R["syscall"] = main["nr"]
    # A main thread waiting in a lock runs pending calls when the wait is
    # interrupted (as by a signal): make its futex wait return EINTR. Every
    # user of futex takes EINTR as a spurious wake-up and waits again.
    if main["in_syscall"] and main["nr"] == FUTEX and main["rax"] in RESTARTING:
        gdb.execute("set var $rax = %d" % -EINTR)
        R["method"] = "pending+eintr"


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set width 0")
    gdb.execute("set print thread-events off")
    gdb.execute("set print inferior-events off")
    # Every signal goes to the process as it would without gdb, never
    # stopping it: a call into the process must run to its end, as one cut
    # short (or unwound) would leave the thread half way through taking the
    # GIL or a lock.
    gdb.execute("handle all nostop noprint pass", to_string=True)
    gdb.execute("handle SIGINT nostop noprint pass", to_string=True)
    gdb.execute("set unwindonsignal off")
    gdb.execute("set breakpoint pending off")
    gdb.execute("set libthread-db-search-path")
    try:
        # The symbols are read before the process stops: the executable's,
        # and those of the libraries with the functions called (libpython,
        # libc), at the addresses the process has them.
        gdb.execute("file " + P["exe"], to_string=True)
        gdb.execute("set auto-solib-add off")
        if P.get("libs"):
            for lib in P["libs"]:
                gdb.execute("add-symbol-file %s -o %d" % (lib["path"], lib["base"]), to_string=True)
    except gdb.error:
        gdb.execute("set auto-solib-add on")
    phase("attaching")
    t0 = time.monotonic()
    try:
        gdb.execute("attach %d" % P["pid"], to_string=True)
    except gdb.error as e:
        R["error"] = str(e)
        R["cause"] = "ptrace" if "ptrace" in str(e) or "not permitted" in str(e) else "attach"
        return
    t1 = time.monotonic()
    R["attach_seconds"] = t1 - t0
    T0[0] = t1
    phase("attached")
    try:
        # objgraph says go, or stop when its deadline passed meanwhile:
        # until then it may end gdb (which detaches), never after, as gdb
        # must not be stopped in the middle of a call into the process.
        if os.read(0, 16).strip() != b"go":
            R["error"] = "timed out"
            R["cause"] = "timeout"
            return
        inject(gdb.selected_inferior())
    except Exception as e:
        R["error"] = R["error"] or str(e)
    finally:
        try:
            gdb.execute("detach", to_string=True)
        except gdb.error as e:
            R["error"] = R["error"] or "detach: " + str(e)
        step("detach")
        t2 = time.monotonic()
        R["total_seconds"] = t2 - t0
        R["stopped_seconds"] = t2 - t0 - unlocked[0]
        phase("detached")


try:
    main()
finally:
    with open(P["report"] + ".tmp", "w") as f:
        json.dump(R, f)
    os.rename(P["report"] + ".tmp", P["report"])
