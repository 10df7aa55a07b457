#!/usr/bin/python3
"""supervise.py --console LOG --pidfile FILE --cgroup DIR --parent-cgroup DIR [--watch PID] -- CMD...

The host-side owner of one raind sandbox. It
  * joins DIR/supervisor, so one cgroup tree holds everything the sandbox is;
  * gives CMD (unshare ... init) a pseudo terminal as its console, because
    systemd as PID 1 writes to /dev/console and the init binds the pty there;
    whatever appears on it is appended to LOG;
  * kills CMD at once when the watched process exits (a pidfd, so a reused PID
    can never fool it) or when it gets SIGTERM/SIGINT/SIGHUP: the sandbox never
    outlives the test run or the shell that started it;
  * when CMD is gone, for whatever reason, kills what is left in DIR, moves
    itself back to the parent cgroup and removes DIR: nothing stays on the host.
Exits with CMD's status.
"""
import argparse
import errno
import fcntl
import os
import select
import signal
import sys
import termios
import time
import tty


def parse_args():
    p = argparse.ArgumentParser(usage=__doc__)
    p.add_argument("--console", required=True)
    p.add_argument("--pidfile", required=True)
    p.add_argument("--cgroup", required=True)
    p.add_argument("--parent-cgroup", required=True)
    p.add_argument("--watch", type=int, default=0)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args()
    if args.cmd[:1] == ["--"]:
        args.cmd = args.cmd[1:]
    if not args.cmd:
        p.error("no command")
    return args


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def spawn_on_pty(cmd):
    master, slave = os.openpty()
    tty.setraw(slave)
    env = dict(os.environ, RAIND_SANDBOX_CONSOLE=os.ttyname(slave))
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            os.closerange(3, 1024)
            os.execvpe(cmd[0], cmd, env)
        except OSError as e:
            os.write(2, f"supervise: cannot run {cmd[0]}: {e}\n".encode())
        os._exit(127)
    # Our own copy of the slave stays open, so the master never reads EIO while
    # the payload has no console descriptor open (systemd reopens it).
    return pid, master, slave


def remove_cgroup(cgroup, parent, log):
    try:
        write_file(os.path.join(parent, "cgroup.procs"), f"{os.getpid()}\n")
    except OSError as e:
        log(f"cannot leave {cgroup} for {parent}: {e}")
    if not os.path.isdir(cgroup):
        return
    try:
        write_file(os.path.join(cgroup, "cgroup.kill"), "1")
    except OSError:
        # before Linux 5.14: kill every process listed anywhere in the tree
        for root, _, files in os.walk(cgroup):
            if "cgroup.procs" in files:
                with open(os.path.join(root, "cgroup.procs")) as f:
                    for line in f:
                        try:
                            os.kill(int(line), signal.SIGKILL)
                        except (ProcessLookupError, ValueError):
                            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(os.path.join(cgroup, "cgroup.events")) as f:
                if "populated 0\n" in f.read():
                    break
        except FileNotFoundError:
            return
        time.sleep(0.02)
    for root, _, _ in os.walk(cgroup, topdown=False):
        try:
            os.rmdir(root)
        except OSError as e:
            log(f"cannot remove {root}: {e}")


def main():
    args = parse_args()
    os.setsid()  # no terminal signals from the caller's session reach the sandbox
    write_file(os.path.join(args.cgroup, "supervisor", "cgroup.procs"), f"{os.getpid()}\n")
    console = open(args.console, "ab", buffering=0)

    def log(msg):
        console.write(f"\n[supervise] {msg}\n".encode())

    child, master, _slave = spawn_on_pty(args.cmd)
    write_file(args.pidfile + ".tmp", f"{child}\n")
    os.rename(args.pidfile + ".tmp", args.pidfile)
    child_fd = os.pidfd_open(child)

    def kill_child(why):
        log(f"{why}: killing the sandbox")
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda sig, _frame: kill_child(signal.Signals(sig).name))

    watch_fd = None
    if args.watch:
        try:
            watch_fd = os.pidfd_open(args.watch)
        except ProcessLookupError:
            kill_child(f"watched process {args.watch} is already gone")

    status = None
    while status is None:
        fds = [master, child_fd] + ([watch_fd] if watch_fd is not None else [])
        ready, _, _ = select.select(fds, [], [])
        if master in ready:
            try:
                console.write(os.read(master, 65536))
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
        if watch_fd is not None and watch_fd in ready:
            os.close(watch_fd)
            watch_fd = None
            kill_child(f"watched process {args.watch} exited")
        if child_fd in ready:
            _, status = os.waitpid(child, 0)

    while select.select([master], [], [], 0.05)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        console.write(data)
    code = os.waitstatus_to_exitcode(status)
    log(f"sandbox exited ({code}), removing {args.cgroup}")
    remove_cgroup(args.cgroup, args.parent_cgroup, log)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
