#!/usr/bin/env bash
# feedguard container entrypoint: run one job with spark-submit in local mode, sized from the container.
#
#   entrypoint.sh [--dry-run] JOB [job flags...]
#   entrypoint.sh ingest_files --JOB_NAME feedguard-quickbite-orders --source quickbite --dataset orders \
#       --input_path s3://landing/quickbite/orders/ --lake_path s3://lake/
#
# JOB is a script under $FEEDGUARD_HOME/jobs without ".py" (ingest_files, ingest_kafka).
# With --continuous among the job flags (the Kafka service, deploy/fargate) the job runs under python, which
# starts spark-submit as its child with the same options (PYSPARK_SUBMIT_ARGS): SIGTERM then reaches the job,
# which finishes its batch and exits 0, instead of the spark-submit JVM, which would stop Spark under it.
# A job flag followed by an empty value (`--run_id ""`) is dropped, so AWS Batch parameters can default to "".
#
# Environment (the image sets the defaults, see deploy/batch/Dockerfile):
#   FEEDGUARD_HOME          folder with jobs/, contracts/ and jars/ (/opt/feedguard)
#   FEEDGUARD_VCPUS         vCPUs of the container (the Batch job definition sets it to its VCPU requirement);
#                           unset: the cgroup CPU quota, then nproc. Fractions round up (0.5 -> local[1]).
#   FEEDGUARD_MEMORY_MIB    memory of the container in MiB; unset: the cgroup memory limit, then MemTotal.
#                           A smaller cgroup limit always wins.
#   FEEDGUARD_HEAP_PERCENT  share of that memory for the driver JVM heap (default 70: the rest is JVM off-heap,
#                           the Python worker and the OS)
#   FEEDGUARD_SPARK_LOCAL_DIR  scratch space for shuffles and spills (default /tmp/spark-local)
#   FEEDGUARD_DRY_RUN=1     same as --dry-run: print the spark-submit command (shell-quoted, one line), exit 0
#   FEEDGUARD_CGROUP_ROOT   where the cgroup files are (default /sys/fs/cgroup; tests point it elsewhere)
#   SPARK_SUBMIT            the spark-submit to run (default: spark-submit on PATH)
#
# Exit codes: the job's own, passed through spark-submit (0 ok, 1 bug, 2 configuration, 3 DQ gate, 4 structural
# change, 5 conservation, 6 corrupt file, 74 environment, 75 transient: the only one retried; see
# docs/operations.md §1); 2 when this script itself is called wrongly.
set -euo pipefail

readonly EXIT_USAGE=2
readonly MIN_HEAP_MIB=512
# jvm/: the JSON flag in one pass (without it the jobs use the slower SQL form)
readonly FEEDGUARD_JARS="feedguard-jvm-"
readonly DELTA_JARS="delta-spark_2.12- delta-storage-"
readonly KAFKA_JARS="spark-sql-kafka-0-10_2.12- spark-token-provider-kafka-0-10_2.12- kafka-clients- commons-pool2-"

log() { printf 'feedguard-entrypoint: %s\n' "$*" >&2; }
die() { log "$*"; exit "$EXIT_USAGE"; }

usage() {
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    printf 'jobs available: %s\n' "$(available_jobs)"
}

available_jobs() {
    local names=() f
    for f in "$FEEDGUARD_HOME"/jobs/*.py; do
        [[ -e "$f" ]] && names+=("$(basename "$f" .py)")
    done
    printf '%s' "${names[*]:-none}"
}

# Round a positive decimal up to an integer ("0.5" -> 1, "4" -> 4, "1.25" -> 2).
ceil() {
    awk -v v="$1" 'BEGIN { if (v !~ /^[0-9]+(\.[0-9]+)?$/ || v <= 0) exit 1; i = int(v); print (v > i ? i + 1 : i) }'
}

cgroup_vcpus() {
    local root="${FEEDGUARD_CGROUP_ROOT:-/sys/fs/cgroup}" quota period
    if [[ -r "$root/cpu.max" ]]; then                       # cgroup v2: "max 100000" or "200000 100000"
        read -r quota period <"$root/cpu.max"
    elif [[ -r "$root/cpu/cpu.cfs_quota_us" ]]; then        # cgroup v1: -1 means no quota
        quota=$(<"$root/cpu/cpu.cfs_quota_us")
        period=$(<"$root/cpu/cpu.cfs_period_us")
    else
        return 1
    fi
    [[ "$quota" =~ ^[0-9]+$ && "$period" =~ ^[0-9]+$ && "$period" -gt 0 ]] || return 1
    echo $(((quota + period - 1) / period))
}

cgroup_memory_mib() {
    local root="${FEEDGUARD_CGROUP_ROOT:-/sys/fs/cgroup}" bytes
    if [[ -r "$root/memory.max" ]]; then                    # cgroup v2: "max" or bytes
        bytes=$(<"$root/memory.max")
    elif [[ -r "$root/memory/memory.limit_in_bytes" ]]; then  # cgroup v1: a huge number means no limit
        bytes=$(<"$root/memory/memory.limit_in_bytes")
    else
        return 1
    fi
    [[ "$bytes" =~ ^[0-9]+$ ]] || return 1
    ((bytes < 1 << 50)) || return 1
    echo $((bytes / 1048576))
}

host_memory_mib() {
    awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo
}

container_vcpus() {
    if [[ -n "${FEEDGUARD_VCPUS:-}" ]]; then
        ceil "$FEEDGUARD_VCPUS" || die "FEEDGUARD_VCPUS must be a positive number, got '$FEEDGUARD_VCPUS'"
    else
        cgroup_vcpus || nproc
    fi
}

container_memory_mib() {
    local mib limit
    if [[ -n "${FEEDGUARD_MEMORY_MIB:-}" ]]; then
        [[ "$FEEDGUARD_MEMORY_MIB" =~ ^[0-9]+$ && "$FEEDGUARD_MEMORY_MIB" -gt 0 ]] ||
            die "FEEDGUARD_MEMORY_MIB must be a positive whole number of MiB, got '$FEEDGUARD_MEMORY_MIB'"
        mib=$FEEDGUARD_MEMORY_MIB
    else
        mib=$(host_memory_mib)
    fi
    if limit=$(cgroup_memory_mib) && ((limit < mib)); then
        [[ -n "${FEEDGUARD_MEMORY_MIB:-}" ]] && log "cgroup memory limit ${limit} MiB is below FEEDGUARD_MEMORY_MIB; using it"
        mib=$limit
    fi
    echo "$mib"
}

# Comma-separated jars under $FEEDGUARD_HOME/jars whose names start with one of the given prefixes.
jars_for() {
    local prefix jar found=()
    for prefix in "$@"; do
        for jar in "$FEEDGUARD_HOME/jars/$prefix"*.jar; do
            [[ -e "$jar" ]] && found+=("$jar")
        done
    done
    local IFS=,
    printf '%s' "${found[*]}"
}

# Drop "--flag ''" pairs (empty Batch parameters); keep everything else in order.
drop_empty_flags() {
    local out=() i=0 args=("$@")
    while ((i < ${#args[@]})); do
        if [[ "${args[i]}" == --* && $((i + 1)) -lt ${#args[@]} && -z "${args[i + 1]}" ]]; then
            i=$((i + 2))
            continue
        fi
        out+=("${args[i]}")
        i=$((i + 1))
    done
    ((${#out[@]} == 0)) || printf '%s\0' "${out[@]}"
}

main() {
    FEEDGUARD_HOME="${FEEDGUARD_HOME:-/opt/feedguard}"
    local dry_run="${FEEDGUARD_DRY_RUN:-0}"
    if [[ "${1:-}" == "--dry-run" ]]; then
        dry_run=1
        shift
    fi
    case "${1:-}" in
        "" | -h | --help) usage; exit "$EXIT_USAGE" ;;
    esac
    local job="$1"
    shift
    [[ "$job" =~ ^[a-z_]+$ ]] || die "job name must be lower_snake_case, got '$job'"
    local script="$FEEDGUARD_HOME/jobs/$job.py"
    [[ -f "$script" ]] || die "no job '$job' (no $script); jobs available: $(available_jobs)"

    local vcpus memory heap jars
    vcpus=$(container_vcpus)
    memory=$(container_memory_mib)
    heap=$((memory * ${FEEDGUARD_HEAP_PERCENT:-70} / 100))
    ((heap >= MIN_HEAP_MIB)) || heap=$MIN_HEAP_MIB
    # shellcheck disable=SC2086  # the prefix lists are meant to split into words
    if [[ "$job" == *kafka* ]]; then jars=$(jars_for $FEEDGUARD_JARS $DELTA_JARS $KAFKA_JARS); else jars=$(jars_for $FEEDGUARD_JARS $DELTA_JARS); fi

    local job_args=()
    mapfile -d '' job_args < <(drop_empty_flags "$@")

    local local_dir="${FEEDGUARD_SPARK_LOCAL_DIR:-/tmp/spark-local}"
    local cmd=("${SPARK_SUBMIT:-spark-submit}"
        --master "local[$vcpus]"
        --driver-memory "${heap}m"
        --conf "spark.sql.shuffle.partitions=$((vcpus * 4))"
        --conf "spark.default.parallelism=$((vcpus * 2))"
        --conf "spark.local.dir=$local_dir"
        --conf "spark.ui.enabled=false"
        --conf "spark.driver.extraJavaOptions=-XX:+ExitOnOutOfMemoryError"
    )
    [[ -n "$jars" ]] && cmd+=(--jars "$jars")
    if [[ " ${job_args[*]-} " == *" --continuous "* ]]; then
        cmd=(env "PYSPARK_SUBMIT_ARGS=$(printf '%q ' "${cmd[@]:1}")pyspark-shell" "${FEEDGUARD_PYTHON:-python}")
    fi
    cmd+=("$script" "${job_args[@]+"${job_args[@]}"}")

    # The session factory (feedguard.runtime.session) keeps the master spark-submit set and finds the same jars.
    export SPARK_MASTER_SET_BY_SUBMIT=1 FEEDGUARD_SPARK_MASTER="local[$vcpus]" FEEDGUARD_JARS_DIR="$FEEDGUARD_HOME/jars"

    log "job=$job vcpus=$vcpus memory=${memory}MiB driver-heap=${heap}m attempt=${AWS_BATCH_JOB_ATTEMPT:-1}"
    if [[ "$dry_run" == 1 ]]; then
        printf '%q ' "${cmd[@]}" | sed 's/ $//'
        printf '\n'
        exit 0
    fi
    mkdir -p "$local_dir"
    exec "${cmd[@]}"
}

main "$@"
