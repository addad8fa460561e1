#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests (Debian/Ubuntu, root, no systemd).
# With SLURM_TEST_NODES=2, two nodes n1 and n2 (two slurmd, `slurmd -N n1`/`-N n2`, on
# their own ports) on the same machine: a cluster whose jobs land on different nodes.
#
#   tests/cluster/slurm.sh up      install slurm + munge if missing, start the cluster
#   tests/cluster/slurm.sh down    stop what `up` started (by PID) and wait until it is gone
#   tests/cluster/slurm.sh status  show the daemons and the node
#
# Everything lives in a private directory, $SLURM_TEST_DIR (default /tmp/ltm-slurm):
# slurm.conf, state, spool, logs, PID files. No /etc/slurm/slurm.conf is written, on
# purpose: the SLURM executor plugin runs `scontrol show config` every time Snakemake
# starts, and while a config names a controller that is down, that call waits ~10 s.
# How clients find this cluster while it is up:
#   - SLURM_CONF=$SLURM_TEST_DIR/slurm.conf (printed by `up`) for the commands you run;
#   - slurmd runs "configless": it fetches the config from slurmctld and links it at
#     /run/slurm/conf, where SLURM commands look when SLURM_CONF is not set. The job
#     steps need this: snakemake's slurm-jobstep executor removes every SLURM_* variable
#     (SLURM_CONF too) from the environment of the `srun` it starts inside a job.
# `down` removes that link, so afterwards no SLURM config is found at all on this machine
# and `scontrol show config` fails in milliseconds.
#
# Exit codes: 0 ok, 1 failure, 3 cannot run here (not root, not Linux, no apt-get to
# install SLURM): a caller may skip on 3.
set -euo pipefail

DIR=${SLURM_TEST_DIR:-/tmp/ltm-slurm}
CONF=$DIR/slurm.conf
export SLURM_CONF=$CONF
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-6818}
UP_TIMEOUT=${SLURM_UP_TIMEOUT:-60}  # seconds for the node to become idle
NODES=${SLURM_TEST_NODES:-1}        # 1: this host as the node (configless); 2: n1 and n2
CONF_LINK=/run/slurm/conf           # where slurmd links the config it fetched

say() { echo "slurm.sh: $*" >&2; }
die() {
    say "error: $*"
    exit 1
}
cannot_run() {
    say "cannot run here: $*"
    exit 3
}

# State of a process from /proc (R, S, D, Z, ...), empty once it no longer exists.
# Killed daemons whose parent does not reap them stay as zombies (Z), and `kill -0`
# succeeds on a zombie: liveness is read from the state, never from kill -0.
proc_state() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) } # the command name may contain spaces; the state follows ") "
    echo "${stat%% *}"
}
alive() {
    local state
    state=$(proc_state "$1")
    [[ -n $state && $state != Z && $state != X ]]
}

# PIDs of live processes whose command name is exactly $1 (no procps needed).
pids_named() {
    local comm pid
    for comm in /proc/[0-9]*/comm; do
        pid=${comm#/proc/}
        pid=${pid%/comm}
        if [[ $(cat "$comm" 2>/dev/null) == "$1" ]] && alive "$pid"; then echo "$pid"; fi
    done
}

# Wait until process $1 is gone (or a zombie), at most $2 seconds.
wait_gone() {
    local pid=$1 deadline=$((SECONDS + $2))
    while alive "$pid"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null || missing+=(slurmctld)
    command -v slurmd >/dev/null || missing+=(slurmd)
    command -v sbatch >/dev/null || missing+=(slurm-client)
    command -v munged >/dev/null || missing+=(munge)
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null || cannot_run "SLURM is not installed and there is no apt-get to install it"
    say "installing ${missing[*]} with apt-get (log: $DIR/apt.log)"
    # Without systemd, the packages' scripts would try to start the services themselves;
    # a policy-rc.d saying "no" (when there is none yet) leaves the daemons to us.
    local policy=/usr/sbin/policy-rc.d created_policy="" rc=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    {
        DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                slurmctld slurmd slurm-client munge
    } >"$DIR/apt.log" 2>&1 || rc=$?
    if [[ -n $created_policy ]]; then rm -f "$policy"; fi
    if ((rc != 0)); then
        tail -n 30 "$DIR/apt.log" >&2
        die "apt-get install failed (log: $DIR/apt.log)"
    fi
}

munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    munge_works && return 0 # a munged already runs (not ours: `down` leaves it alone)
    if [[ ! -s /etc/munge/munge.key ]]; then # the package creates it; just in case
        mungekey --create --force
        chown munge:munge /etc/munge/munge.key
        chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge
    chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged --force </dev/null >>"$DIR/munged.out" 2>&1 ||
        die "munged did not start: $(cat "$DIR/munged.out")"
    local i
    for i in $(seq 50); do
        if munge_works; then
            cp /run/munge/munged.pid "$DIR/munged.pid" # ours: `down` stops it
            return 0
        fi
        sleep 0.1
    done
    die "munged does not answer (munge -n | unmunge)"
}

write_conf() {
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    # RealMemory below MemTotal: a node with less memory than declared is drained
    mem_mb=$(awk '/^MemTotal:/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
    cat >"$CONF" <<EOF
# One-node test cluster written by tests/cluster/slurm.sh; all its state is under $DIR.
ClusterName=ltmtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
# slurmd fetches this file from slurmctld and links it at $CONF_LINK (see slurm.sh)
SlurmctldParameters=enable_configless
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# no cgroups in a container: processes tracked through /proc, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# no slurmdbd, so no accounting: sacct does not work here, job states come from squeue
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
ReturnToService=2
# squeue shows a finished job for MinJobAge seconds: far longer than a status interval
MinJobAge=600
EOF
    if ((NODES == 1)); then
        cat >>"$CONF" <<EOF
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
        return
    fi
    # two nodes on this machine: each slurmd its own port, spool, log and PID file (%n),
    # and half of the memory each (the CPUs are shared: a test's jobs are small)
    mem_mb=$((mem_mb / 2))
    sed -i -e "s|^SlurmdSpoolDir=.*|SlurmdSpoolDir=$DIR/spool/%n|" \
        -e "s|^SlurmdPidFile=.*|SlurmdPidFile=$DIR/slurmd-%n.pid|" \
        -e "s|^SlurmdLogFile=.*|SlurmdLogFile=$DIR/slurmd-%n.log|" \
        -e "s|^SlurmctldParameters=.*|# no configless: the slurmds read this file|" "$CONF"
    cat >>"$CONF" <<EOF
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$SLURMD_PORT CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT + 1)) CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
}

# Start a daemon that forks into the background and writes its PID file.
start_daemon() {
    local name=$1 pidfile=$2 i
    shift 2
    if "$@" </dev/null >>"$DIR/$name.out" 2>&1; then
        for i in $(seq 50); do
            [[ -s $pidfile ]] && alive "$(cat "$pidfile")" && return 0
            sleep 0.1
        done
    fi
    tail -n 20 "$DIR/$name.out" "$DIR/$name.log" >&2 2>/dev/null || true
    die "$name did not start"
}

up() {
    [[ $(uname -s) == Linux ]] || cannot_run "needs Linux"
    [[ $(id -u) == 0 ]] || cannot_run "needs root (installs packages, starts daemons)"
    down quiet # a cluster an interrupted run left in this directory
    local pid
    for pid in $(pids_named slurmctld) $(pids_named slurmd); do
        die "a SLURM daemon not started from $DIR runs already (pid $pid:" \
            "$(tr '\0' ' ' <"/proc/$pid/cmdline")); stop it with" \
            "'SLURM_TEST_DIR=<its directory> $0 down'"
    done
    rm -rf "$DIR" # fresh state at every start: no jobs or node state from an earlier run
    mkdir -p "$DIR/state" "$DIR/spool"
    install_packages
    start_munge
    write_conf
    start_daemon slurmctld "$DIR/slurmctld.pid" slurmctld -f "$CONF"
    if ((NODES == 1)); then
        start_daemon slurmd "$DIR/slurmd.pid" slurmd --conf-server "127.0.0.1:$CTLD_PORT"
    else
        local node
        for node in n1 n2; do
            mkdir -p "$DIR/spool/$node"
            start_daemon "slurmd-$node" "$DIR/slurmd-$node.pid" slurmd -f "$CONF" -N "$node"
        done
    fi
    local deadline=$((SECONDS + UP_TIMEOUT)) state=""
    while ((SECONDS < deadline)); do
        state=$(sinfo -h -o %T 2>/dev/null | sort -u | tr '\n' ' ' || true)
        [[ $state == "idle " ]] && break
        sleep 0.3
    done
    if [[ $state != "idle " ]]; then
        tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
        down
        die "the node is not idle after ${UP_TIMEOUT}s (state: '${state:-none}')"
    fi
    say "cluster up: $(sinfo -h -o '%P %N %c CPUs %m MB %T')"
    echo "SLURM_CONF=$CONF"
}

stop_pid() {
    local name=$1 pid=$2
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" 15 && return 0
    say "$name (pid $pid) ignores TERM, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || die "$name (pid $pid) is still running"
}

down() {
    local quiet=${1:-} pidfile
    [[ -d $DIR ]] || return 0
    # cancel the jobs left, so that no job outlives its slurmd
    if [[ -s $DIR/slurmctld.pid ]] && alive "$(cat "$DIR/slurmctld.pid")"; then
        scancel --user="$(id -un)" 2>/dev/null || true
        local deadline=$((SECONDS + 15))
        while [[ -n $(squeue -h -t RUNNING,COMPLETING -o %i 2>/dev/null) ]] && ((SECONDS < deadline)); do
            sleep 0.3
        done
    fi
    for pidfile in slurmd-n1 slurmd-n2 slurmd slurmctld munged; do # slurmd first: its link goes before slurmctld
        if [[ -s $DIR/$pidfile.pid ]]; then stop_pid "$pidfile" "$(cat "$DIR/$pidfile.pid")"; fi
        rm -f "$DIR/$pidfile.pid"
        if [[ $pidfile == slurmd && $(readlink "$CONF_LINK" 2>/dev/null) == "$DIR"/* ]]; then
            rm -f "$CONF_LINK"
            rmdir --ignore-fail-on-non-empty "$(dirname "$CONF_LINK")"
        fi
    done
    rm -rf "$DIR/state" "$DIR/spool" # slurm.conf and the logs stay, for a look afterwards
    [[ -n $quiet ]] || say "cluster down"
}

status() {
    local name pid
    for name in slurmctld slurmd slurmd-n1 slurmd-n2 munged; do
        [[ $name != slurmd-* || -e $DIR/$name.pid ]] || continue
        pid=$(cat "$DIR/$name.pid" 2>/dev/null || true)
        if [[ -n $pid ]] && alive "$pid"; then
            echo "$name: running (pid $pid)"
        else
            echo "$name: not running${pid:+ (pid $pid: $(proc_state "$pid" | sed 's/^$/gone/'))}"
        fi
    done
    # asked only while slurmctld runs: sinfo waits ~10 s for a controller that is down
    pid=$(cat "$DIR/slurmctld.pid" 2>/dev/null || true)
    if [[ -n $pid ]] && alive "$pid"; then sinfo 2>&1 || true; fi
}

case ${1:-} in
    up) up ;;
    down) down ;;
    status) status ;;
    *)
        echo "usage: $0 up|down|status   (state in \$SLURM_TEST_DIR, default /tmp/ltm-slurm)" >&2
        exit 2
        ;;
esac
