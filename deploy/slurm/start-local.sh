#!/usr/bin/env bash
# Starts a one-node Slurm cluster on localhost (munge, slurmctld, slurmd)
# for the Slurm array test: Debian's slurm-wlm and munge packages, a
# minimal slurm.conf with this machine's CPUs and memory, no accounting.
# Run as root. Prints "slurm: ready" and exits 0 when sinfo answers;
# prints why and exits 1 when it cannot start.
set -uo pipefail
conf=/etc/slurm/slurm.conf
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
chown -R munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge 2>/dev/null || true
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none && chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
fi
cat > "$conf" <<CONF
ClusterName=scaleacross-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# A cluster that already answers is reused; otherwise whatever is left of
# an earlier one (killed daemons, stale pid files) is cleared first.
if ! sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
  pkill -x slurmd 2>/dev/null; pkill -x slurmctld 2>/dev/null; pkill -x munged 2>/dev/null
  for _ in $(seq 1 20); do
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x munged >/dev/null || break
    sleep 0.25
  done
  rm -f /run/slurmctld.pid /run/slurmd.pid /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --force || { echo "slurm: munged did not start"; exit 1; }
  # -c: start from a clean state; jobs of a killed earlier cluster would
  # otherwise be restored as running and hold the node.
  /usr/sbin/slurmctld -c || { echo "slurm: slurmctld did not start"; tail -5 /var/log/slurm/slurmctld.log; exit 1; }
  /usr/sbin/slurmd || { echo "slurm: slurmd did not start"; tail -5 /var/log/slurm/slurmd.log; exit 1; }
fi
for _ in $(seq 1 30); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
    echo "slurm: ready ($host, $cpus CPUs)"
    exit 0
  fi
  sleep 1
done
echo "slurm: the node did not come up:"; sinfo 2>&1 | head -5; tail -5 /var/log/slurm/slurmd.log
exit 1
