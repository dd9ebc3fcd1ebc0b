#!/usr/bin/env python3
# netprobe.py: servers and clients for the system tests of the firewall
# (tests/system-firewall.at).  They run inside the VMs' namespaces
# ("vm NAME python3 netprobe.py ..."); nothing here knows about Bulkhead.
#
#   serve NAME [--sink=PORT,...] PORT...
#       Listens on TCP and UDP PORT, on IPv4 and IPv6 (wherever the
#       namespace has the family), and prints "ready" once every socket is
#       bound.  A TCP client first receives the line "NAME:PORT"; if it
#       then sends "fetch N", it receives N bytes and the connection
#       closes.  A UDP datagram is answered with "NAME:PORT".  On a sink
#       port the server sends nothing and counts what it receives: every
#       20 ms, for each connection that received something since, it
#       prints "TIME PORT TOTAL", TIME being when it last received data
#       (seconds since the epoch) and TOTAL the bytes of that connection.
#
#   probe [--timeout=S] [--udp] [--sport=P] HOST/PORT...
#       Tries every target at once and prints one line per target, in
#       order: "HOST/PORT open NAME" (the server NAME answered with the
#       right port), "HOST/PORT refused" (a TCP reset or an ICMP port
#       unreachable: the firewall let it through, but nothing listens),
#       "HOST/PORT timeout" (no answer within S seconds, default 1.5), or
#       "HOST/PORT error ..." (anything else).  --sport binds the client's
#       source port (even where "serve" listens: both use SO_REUSEPORT),
#       and tries the targets one after the other.
#
#   fetch [--timeout=S] HOST/PORT BYTES
#       Fetches BYTES bytes from a server (see "serve") and prints
#       "fetched N bytes from NAME".
#
#   stream [--interval=S] [--chunk=B] HOST/PORT...
#       Connects to every target (a sink port), prints "streaming", then
#       sends CHUNK bytes (default 1024) to each every S seconds (default
#       0.01) until killed.  A connection whose send buffer is full is
#       skipped (the firewall dropped its packets): the others go on.
#
#   scan [--timeout=S] [--batch=N] HOST PORTS
#       A TCP connect scan of PORTS ("1-1024,8080") on HOST, N ports at a
#       time (default 2048), waiting S seconds (default 3) for each batch's
#       answers: the first SYNs to the switch make it take a slow path, one
#       flow each, which takes a while on a busy machine.  Prints
#       "open PORT..." (they accepted), "closed PORT..." (they reset; runs
#       of three or more ports as "LO-HI"),
#       "filtered COUNT" (no answer, in a second pass over them either)
#       and "error PORT..." if any.
#
#   sink-report LOG T0 T_END PORT...
#       Reads the output of a "serve" with sinks (LOG) and says, for each
#       sink PORT, whether its stream was still flowing at T_END ("PORT
#       flowing": data less than 0.5 s before T_END), or when it stopped
#       with respect to T0 ("PORT stopped within 1 s", "PORT stopped
#       before T0", "PORT stopped late").  A stream that had not received
#       anything in the 0.5 s before T0 is reported as "PORT stalled
#       before T0" whatever happened next.  Prints the exact times on
#       stderr.

import errno
import os
import select
import socket
import sys
import threading
import time


def parse_target(s):
    host, _, port = s.rpartition("/")
    if not host or not port.isdigit():
        sys.exit("netprobe: %s: a target is HOST/PORT" % s)
    return host, int(port)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def parse_options(args, known):
    opts = {}
    rest = []
    for a in args:
        if a.startswith("--"):
            key, eq, value = a[2:].partition("=")
            if key not in known:
                sys.exit("netprobe: unknown option %s" % a)
            opts[key] = value if eq else True
        else:
            rest.append(a)
    return opts, rest


def parse_ports(spec):
    ports = []
    for part in spec.split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        ports.extend(range(int(lo), int(hi or lo) + 1))
    return ports


# --- serve ---------------------------------------------------------------

class Sinks:
    def __init__(self):
        self.lock = threading.Lock()
        self.conns = {}         # id -> [port, total, last, printed]

    def add(self, key, port):
        with self.lock:
            self.conns[key] = [port, 0, 0.0, 0]

    def got(self, key, n):
        with self.lock:
            c = self.conns[key]
            c[1] += n
            c[2] = time.time()

    def ticker(self):
        while True:
            time.sleep(0.02)
            lines = []
            with self.lock:
                for c in self.conns.values():
                    if c[1] != c[3]:
                        c[3] = c[1]
                        lines.append("%.3f %d %d" % (c[2], c[0], c[1]))
            if lines:
                sys.stdout.write("\n".join(lines) + "\n")
                sys.stdout.flush()


def serve_tcp_conn(conn, name, port, sinks):
    try:
        if sinks is not None:
            key = id(conn)
            sinks.add(key, port)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                sinks.got(key, len(data))
            return
        conn.sendall(("%s:%d\n" % (name, port)).encode())
        conn.settimeout(30)
        line = b""
        while not line.endswith(b"\n"):
            data = conn.recv(1024)
            if not data:
                return
            line += data
        words = line.split()
        if len(words) == 2 and words[0] == b"fetch":
            n = int(words[1])
            block = b"x" * 65536
            while n > 0:
                conn.sendall(block[:min(n, len(block))])
                n -= min(n, len(block))
    except OSError:
        pass
    finally:
        conn.close()


def serve_tcp(sock, name, port, sinks):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, daemon=True,
                         args=(conn, name, port, sinks)).start()


def serve_udp(sock, name, port):
    while True:
        _, peer = sock.recvfrom(65536)
        sock.sendto(("%s:%d\n" % (name, port)).encode(), peer)


def cmd_serve(args):
    opts, rest = parse_options(args, ("sink",))
    if not rest:
        sys.exit("usage: netprobe.py serve NAME [--sink=PORT,...] PORT...")
    name = rest[0]
    sink_ports = set(parse_ports(opts.get("sink", "")))
    ports = [int(p) for p in rest[1:]] + sorted(sink_ports)
    sinks = Sinks()
    threads = []
    for port in ports:
        for family, addr in ((socket.AF_INET, "0.0.0.0"),
                             (socket.AF_INET6, "::")):
            try:
                t = socket.socket(family, socket.SOCK_STREAM)
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                # A client may then take this port as its source port.
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                t.bind((addr, port))
                t.listen(128)
            except OSError as e:
                if family == socket.AF_INET6 and e.errno in (
                        errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue        # no IPv6 in this namespace
                raise
            threads.append(threading.Thread(
                target=serve_tcp, daemon=True,
                args=(t, name, port, sinks if port in sink_ports else None)))
            if port in sink_ports:
                continue
            u = socket.socket(family, socket.SOCK_DGRAM)
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind((addr, port))
            threads.append(threading.Thread(target=serve_udp, daemon=True,
                                            args=(u, name, port)))
    for t in threads:
        t.start()
    print("ready", flush=True)
    sinks.ticker()


# --- probe ---------------------------------------------------------------

def probe_tcp(host, port, timeout, sport):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    try:
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("", sport))
        s.settimeout(timeout)
        try:
            s.connect((host, port))
        except socket.timeout:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        line = b""
        try:
            while not line.endswith(b"\n"):
                data = s.recv(1024)
                if not data:
                    return "error: connected, but no banner"
                line += data
        except socket.timeout:
            return "error: connected, but the banner timed out"
        return banner_verdict(line, port)
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


def probe_udp(host, port, timeout, sport):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    try:
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("", sport))
        s.settimeout(timeout)
        s.connect((host, port))
        s.send(b"ping\n")
        try:
            return banner_verdict(s.recv(1024), port)
        except socket.timeout:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
    except OSError as e:
        return "error: %s" % e
    finally:
        s.close()


def banner_verdict(line, port):
    name, _, p = line.decode(errors="replace").strip().rpartition(":")
    if p != str(port):
        return "error: unexpected banner %r" % line
    return "open %s" % name


def cmd_probe(args):
    opts, rest = parse_options(args, ("timeout", "udp", "sport"))
    timeout = float(opts.get("timeout", 1.5))
    sport = int(opts.get("sport", 0))
    fn = probe_udp if "udp" in opts else probe_tcp
    targets = [parse_target(t) for t in rest]
    results = [None] * len(targets)

    def run(i):
        results[i] = fn(targets[i][0], targets[i][1], timeout, sport)
    if sport:
        for i in range(len(targets)):
            run(i)      # one source port: one target at a time
    else:
        threads = [threading.Thread(target=run, args=(i,))
                   for i in range(len(targets))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    for arg, r in zip(rest, results):
        print("%s %s" % (arg, r))


# --- fetch ---------------------------------------------------------------

def cmd_fetch(args):
    opts, rest = parse_options(args, ("timeout",))
    if len(rest) != 2:
        sys.exit("usage: netprobe.py fetch [--timeout=S] HOST/PORT BYTES")
    host, port = parse_target(rest[0])
    want = int(rest[1])
    s = socket.create_connection((host, port),
                                 timeout=float(opts.get("timeout", 5)))
    f = s.makefile("rb")
    name = f.readline().decode().strip().rpartition(":")[0]
    s.sendall(b"fetch %d\n" % want)
    got = 0
    while True:
        data = f.read1(65536)
        if not data:
            break
        got += len(data)
    print("fetched %d bytes from %s" % (got, name))


# --- stream --------------------------------------------------------------

def cmd_stream(args):
    opts, rest = parse_options(args, ("interval", "chunk"))
    interval = float(opts.get("interval", 0.01))
    chunk = b"y" * int(opts.get("chunk", 1024))
    socks = []
    for arg in rest:
        host, port = parse_target(arg)
        socks.append(socket.create_connection((host, port), timeout=5))
    for s in socks:
        s.setblocking(False)
    print("streaming", flush=True)
    while True:
        for s in socks:
            try:
                s.send(chunk)
            except BlockingIOError:
                pass
        time.sleep(interval)


# --- scan ----------------------------------------------------------------

def scan_ports(host, family, ports, batch, timeout, result):
    """TCP-connects to each of 'ports' of 'host', 'batch' at a time, and
    stores in 'result' what became of each: open, closed, filtered (no
    answer within 'timeout' seconds) or error."""
    for i in range(0, len(ports), batch):
        pending = {}
        poller = select.poll()
        for port in ports[i:i + batch]:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                result[port] = "error"
                s.close()
                continue
            pending[s.fileno()] = (s, port)
            poller.register(s, select.POLLOUT)
        deadline = time.monotonic() + timeout
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for fd, _ in poller.poll(left * 1000):
                s, port = pending.pop(fd)
                poller.unregister(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                result[port] = {0: "open", errno.ECONNREFUSED: "closed"}.get(
                    err, "error")
                s.close()
        for s, port in pending.values():
            result[port] = "filtered"
            s.close()


def cmd_scan(args):
    opts, rest = parse_options(args, ("timeout", "batch"))
    if len(rest) != 2:
        sys.exit("usage: netprobe.py scan [--timeout=S] [--batch=N] "
                 "HOST PORTS")
    host, ports = rest[0], parse_ports(rest[1])
    timeout = float(opts.get("timeout", 3))
    batch = int(opts.get("batch", 2048))
    family = family_of(host)
    result = {}
    scan_ports(host, family, ports, batch, timeout, result)
    # A second pass over the ports that did not answer, as a scanner
    # retries: a SYN the machine lost under the burst (the userspace
    # datapath's slow path) is no verdict of the firewall's.
    silent = [p for p in ports if result[p] == "filtered"]
    if silent:
        scan_ports(host, family, silent, batch, timeout, result)
    for state in ("open", "closed"):
        print(state, *ranges([p for p in ports if result[p] == state]))
    print("filtered", sum(1 for p in ports if result[p] == "filtered"))
    errors = [p for p in ports if result[p] == "error"]
    if errors:
        print("error", *errors)


def ranges(ports):
    """Returns sorted PORTS as strings, runs of 3 or more as "LO-HI"."""
    out = []
    ports = sorted(ports)
    i = 0
    while i < len(ports):
        j = i
        while j + 1 < len(ports) and ports[j + 1] == ports[j] + 1:
            j += 1
        if j - i >= 2:
            out.append("%d-%d" % (ports[i], ports[j]))
        else:
            out.extend(str(p) for p in ports[i:j + 1])
        i = j + 1
    return out


# --- sink-report ---------------------------------------------------------

def cmd_sink_report(args):
    if len(args) < 4:
        sys.exit("usage: netprobe.py sink-report LOG T0 T_END PORT...")
    t0, t_end = float(args[1]), float(args[2])
    history = {}
    for line in open(args[0]):
        words = line.split()
        if len(words) == 3:
            history.setdefault(int(words[1]), []).append(
                (float(words[0]), int(words[2])))
    for port in (int(p) for p in args[3:]):
        h = history.get(port, [])
        if not h:
            print("%d never received anything" % port)
            continue
        before = [t for t, _ in h if t <= t0]
        last, total = h[-1]
        sys.stderr.write("%d: %d bytes, last received %.3f s after t0 "
                         "(%.3f s before the end); before t0: last %.3f s "
                         "before\n" % (port, total, last - t0, t_end - last,
                                       t0 - before[-1] if before else -1))
        if not before or t0 - before[-1] > 0.5:
            print("%d stalled before t0" % port)
        elif t_end - last < 0.5:
            print("%d flowing" % port)
        elif last <= t0:
            print("%d stopped before t0" % port)
        elif last - t0 <= 1.0:
            print("%d stopped within 1 s" % port)
        else:
            print("%d stopped late" % port)


def main():
    commands = {"serve": cmd_serve, "probe": cmd_probe, "fetch": cmd_fetch,
                "stream": cmd_stream, "scan": cmd_scan,
                "sink-report": cmd_sink_report}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: netprobe.py serve|probe|fetch|stream|scan|"
                 "sink-report ARG... (see the top of the file)")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
