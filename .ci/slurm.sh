#!/usr/bin/env bash
# A one-node Slurm cluster for the scale-out test (properties/slurm.test.ts), run as root.
#
#   .ci/slurm.sh [start]   install slurm-wlm + munge if missing, start munged, slurmctld and slurmd,
#                          wait until sinfo shows the node idle; prints `export SLURM_CONF=…`
#   .ci/slurm.sh stop      stop exactly the daemons that `start` recorded (by PID), nothing else
#   .ci/slurm.sh status    exits 0 if the daemons `start` recorded run and the node is idle
#   .ci/slurm.sh env       prints `export SLURM_CONF=…` (for `eval "$(.ci/slurm.sh env)"`)
#
# Everything lives in $SOFTCAL_SLURM_DIR (default /tmp/softcal-slurm), a folder this script owns:
# slurm.conf, the munge key and socket, the controller's and node's state, logs, and `pids` (one
# "name pid" line per daemon started). Nothing is written to /etc, and no system service is used:
# clients find the cluster through SLURM_CONF. Ports: $SOFTCAL_SLURM_PORT and the next one
# (default 6817/6818, Slurm's own). Exits non-zero, loudly, when the cluster does not come up.
set -uo pipefail

RUN_DIR="${SOFTCAL_SLURM_DIR:-/tmp/softcal-slurm}"
CONF="$RUN_DIR/slurm.conf"
PIDS="$RUN_DIR/pids"
PORT="${SOFTCAL_SLURM_PORT:-6817}"
WAIT_S="${SOFTCAL_SLURM_WAIT_S:-60}"
NODE="$(hostname)"

fail() {
  echo "" >&2
  echo "!!! slurm.sh: $1" >&2
  for log in "$RUN_DIR/munged.log" "$RUN_DIR/slurmctld.log" "$RUN_DIR/slurmd.log"; do
    [ -s "$log" ] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
  done
  # A start that failed half-way stops the daemons it had started.
  [ "${STARTING:-0}" -eq 1 ] && STARTING=0 && stop >&2
  echo "!!! Without a cluster the Slurm test (properties/slurm.test.ts) is skipped, and fails in CI." >&2
  exit 1
}

# True if pid $1 is alive and is the daemon named $2 started with this script's files.
ours() {
  local pid="$1" name="$2" cmd
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  case "$cmd" in *"$name"*"$RUN_DIR"*) return 0 ;; *) return 1 ;; esac
}

stop() {
  [ -f "$PIDS" ] || { echo "slurm.sh: no daemons recorded in $PIDS; nothing to stop"; return 0; }
  # Reverse start order: the node, the controller, then munge (the others authenticate through it).
  local name pid i
  for name in slurmd slurmctld munged; do
    pid="$(awk -v n="$name" '$1 == n { print $2 }' "$PIDS")"
    [ -n "$pid" ] || continue
    if ! ours "$pid" "$name"; then
      echo "slurm.sh: $name (pid $pid) is not running"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do
      ours "$pid" "$name" || break
      sleep 0.1
    done
    if ours "$pid" "$name"; then
      echo "slurm.sh: $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    echo "slurm.sh: stopped $name (pid $pid)"
  done
  rm -f "$PIDS"
}

print_env() {
  echo "export SLURM_CONF=$CONF"
}

# Prints the node's state as sinfo reports it (empty if the controller does not answer).
node_state() {
  SLURM_CONF="$CONF" sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null | head -n 1
}

# True if every daemon recorded in $PIDS runs and the node is idle.
healthy() {
  [ -s "$PIDS" ] || return 1
  local name pid
  while read -r name pid; do ours "$pid" "$name" || return 1; done <"$PIDS"
  [ "$(node_state)" = "idle" ]
}

start() {
  [ "$(id -u)" -eq 0 ] || fail "must run as root (the one-node cluster runs its daemons as root)"

  if healthy; then
    echo "slurm.sh: cluster already running ($(tr '\n' ' ' <"$PIDS"))"
    print_env
    return 0
  fi
  if [ -f "$PIDS" ]; then
    echo "slurm.sh: a previous cluster in $RUN_DIR is not healthy; stopping what is left of it"
    stop
  fi

  local missing=()
  for bin in munged slurmctld slurmd sbatch sinfo; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not Debian/Ubuntu): install slurm-wlm and munge yourself"
    echo "slurm.sh: ${missing[*]} missing: installing the Debian packages slurm-wlm and munge (~20 s once)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >/dev/null || fail "apt-get update failed"
    apt-get install -y --no-install-recommends slurm-wlm munge >/dev/null || fail "apt-get install slurm-wlm munge failed"
    for bin in munged slurmctld slurmd sbatch sinfo; do
      command -v "$bin" >/dev/null 2>&1 || fail "apt-get install succeeded but $bin is still missing"
    done
  fi

  # A fresh state folder: a previous cluster's job records would make job ids and states carry over.
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR/munge" "$RUN_DIR/ctld" "$RUN_DIR/spool" || fail "cannot create $RUN_DIR"
  chmod 0755 "$RUN_DIR"
  chmod 0700 "$RUN_DIR/munge"

  # munge: a key of our own (1 KiB of random bytes, as mungekey makes it), socket in our folder.
  dd if=/dev/urandom of="$RUN_DIR/munge/munge.key" bs=1024 count=1 status=none || fail "cannot write the munge key"
  chmod 0400 "$RUN_DIR/munge/munge.key"

  local cpus
  cpus="$(nproc)"
  cat >"$CONF" <<EOF
# Written by .ci/slurm.sh: a one-node cluster for softcal's scale-out test.
ClusterName=softcal
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$RUN_DIR/munge/munge.socket.2
CredType=cred/munge
StateSaveLocation=$RUN_DIR/ctld
SlurmdSpoolDir=$RUN_DIR/spool
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$RUN_DIR/slurmctld.log
SlurmdLogFile=$RUN_DIR/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
# A requeued job (scontrol requeue, or a node failure with --requeue) runs again from the start.
JobRequeue=1
KillWait=5
# sbatch --wait polls every 2 s while MinJobAge/2 <= 2 (else 2, 8, 32 s: a 15 s array waits 42 s).
# Its exit code is then the largest among the tasks still held at the end (a task that ended more
# than MinJobAge earlier may be purged): properties/slurm.test.ts reads every task's log as well.
MinJobAge=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

  : >"$PIDS"
  STARTING=1
  # Each daemon runs in the foreground of its own session (setsid), so $! is its PID.
  setsid munged --foreground --force --socket="$RUN_DIR/munge/munge.socket.2" \
    --key-file="$RUN_DIR/munge/munge.key" --pid-file="$RUN_DIR/munged.pid" \
    --log-file="$RUN_DIR/munged.log" --seed-file="$RUN_DIR/munge/munged.seed" \
    </dev/null >>"$RUN_DIR/munged.out" 2>&1 &
  echo "munged $!" >>"$PIDS"
  local i
  for i in $(seq 1 100); do
    [ -S "$RUN_DIR/munge/munge.socket.2" ] && break
    ours "$(awk '$1 == "munged" { print $2 }' "$PIDS")" munged || fail "munged exited at start"
    sleep 0.1
  done
  [ -S "$RUN_DIR/munge/munge.socket.2" ] || fail "munged's socket did not appear within 10 s"

  setsid slurmctld -D -i -f "$CONF" </dev/null >>"$RUN_DIR/slurmctld.out" 2>&1 &
  echo "slurmctld $!" >>"$PIDS"
  setsid slurmd -D -f "$CONF" </dev/null >>"$RUN_DIR/slurmd.out" 2>&1 &
  echo "slurmd $!" >>"$PIDS"

  # Poll, with a bound, until the controller reports the node idle.
  local state="" tries=$((WAIT_S * 5)) name pid
  for i in $(seq 1 "$tries"); do
    state="$(node_state)"
    [ "$state" = "idle" ] && break
    while read -r name pid; do ours "$pid" "$name" || fail "$name (pid $pid) exited at start"; done <"$PIDS"
    sleep 0.2
  done
  [ "$state" = "idle" ] || fail "the node did not become idle within ${WAIT_S} s (sinfo says: '${state:-no answer}')"
  STARTING=0
  echo "slurm.sh: one-node cluster up: node $NODE, $cpus CPUs, partition main ($(tr '\n' ' ' <"$PIDS"))"
  print_env
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) healthy ;;
  env) print_env ;;
  *)
    echo "usage: .ci/slurm.sh [start|stop|status|env]" >&2
    exit 2
    ;;
esac
