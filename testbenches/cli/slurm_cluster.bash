# A one-node Slurm cluster on localhost for a test, started and stopped by the test itself.
# Sourced (not a test: CTest registers *.sh only) as:
#   . "$(dirname "$0")/slurm_cluster.bash"
#   cluster_start DIR || exit 1     # DIR: a fresh temporary directory of the test
#   ... sbatch / squeue / scripts/sweep --slurm (SLURM_CONF is exported) ...
#   cluster_stop                    # also run from the EXIT trap the caller installs
# Everything lives under DIR: munge key, socket, seed, logs; slurm.conf, state and spool
# directories, PID files. The daemons listen on two free TCP ports picked at start, so the
# cluster cannot clash with another Slurm or another test. The daemons run in the foreground
# as children of this shell, and cluster_stop stops exactly those PIDs (after cancelling
# every job of this cluster and waiting for its job steps to end), never anything by name.
# cluster_leftovers lists any process still tied to DIR (command line or environment).
# Needs: munge, slurm-wlm (slurmctld, slurmd, client commands) from Debian; runs as root in a
# container: proctrack/linuxproc and task/none need no cgroups.

cluster_dir=
cluster_pids=()

_free_port() {
  /usr/bin/python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cluster_log() { echo "cluster: $*"; }

cluster_start() {
  cluster_dir=$1
  local d=$cluster_dir
  mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log"
  chmod 700 "$d/munge"
  # munge: a fresh key of its own and a private socket
  head -c 1024 /dev/urandom > "$d/munge/munge.key"
  chmod 400 "$d/munge/munge.key"
  munged -F --force --key-file="$d/munge/munge.key" --socket="$d/munge/munge.socket" \
    --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed" \
    --log-file="$d/log/munged.log" --num-threads=2 > "$d/log/munged.out" 2>&1 &
  cluster_pids+=($!)

  local node cpuline ctl_port d_port
  node=$(hostname -s)
  # The node as slurmd sees this host (real cores and memory), minus the UpTime line.
  cpuline=$(slurmd -C 2>/dev/null | head -1)
  ctl_port=$(_free_port)
  d_port=$(_free_port)
  while [ "$d_port" = "$ctl_port" ]; do d_port=$(_free_port); done
  cat > "$d/slurm.conf" <<EOF
ClusterName=eietest$$
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
$cpuline NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$d/slurm.conf"
  # wait for munged's socket
  local i
  for i in $(seq 1 100); do [ -S "$d/munge/munge.socket" ] && break; sleep 0.1; done
  [ -S "$d/munge/munge.socket" ] || { cluster_log "munged did not start"; cat "$d/log/munged.out" "$d/log/munged.log" 2>/dev/null; return 1; }
  slurmctld -D -f "$d/slurm.conf" > "$d/log/slurmctld.out" 2>&1 &
  cluster_pids+=($!)
  slurmd -D -f "$d/slurm.conf" -N "$node" > "$d/log/slurmd.out" 2>&1 &
  cluster_pids+=($!)
  # the node idle, as sinfo sees it (at most 60 s)
  local state=
  for i in $(seq 1 600); do
    state=$(sinfo -h -n "$node" -o %t 2>/dev/null | head -1)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  if [ "$state" != idle ]; then
    cluster_log "node $node not idle after 60 s (state '${state}')"
    tail -n 20 "$d/log/slurmctld.log" "$d/log/slurmd.log" "$d/log/"*.out 2>/dev/null
    return 1
  fi
  cluster_log "node $node idle (controller on 127.0.0.1:$ctl_port, slurmd on :$d_port, daemons ${cluster_pids[*]})"
}

# Processes tied to this cluster's directory: by command line, or by an environment that points
# at its slurm.conf (job steps and the tools they run).
cluster_leftovers() {
  [ -n "$cluster_dir" ] || return 0
  /usr/bin/python3 - "$cluster_dir" <<'EOF'
import os, sys
d = sys.argv[1]
conf = ("SLURM_CONF=" + d + "/slurm.conf").encode()
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) in (os.getpid(), os.getppid()):
        continue
    try:
        cmd = open(f"/proc/{p}/cmdline", "rb").read()
        env = open(f"/proc/{p}/environ", "rb").read().split(b"\0")
    except OSError:
        continue
    if d.encode() in cmd or conf in env:
        print(p)
EOF
}

cluster_stop() {
  [ -n "$cluster_dir" ] || return 0
  local i pid
  if ((${#cluster_pids[@]})); then
    scancel --full --quiet --user="$(id -un)" 2>/dev/null
    for i in $(seq 1 100); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  # job steps of this cluster that outlived the cancel (by PID, found through SLURM_CONF)
  for i in $(seq 1 50); do
    [ -z "$(cluster_leftovers | while read -r pid; do
      for c in "${cluster_pids[@]}"; do [ "$pid" = "$c" ] && continue 2; done; echo "$pid"; done)" ] && break
    sleep 0.1
  done
  # slurmd, slurmctld, munged: the newest first
  for ((i = ${#cluster_pids[@]} - 1; i >= 0; i--)); do
    pid=${cluster_pids[i]}
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${cluster_pids[@]}"; do
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  cluster_pids=()
  # anything still tied to the cluster (a job step, a tool it ran): stopped by PID
  for pid in $(cluster_leftovers); do kill -KILL "$pid" 2>/dev/null; done
}
