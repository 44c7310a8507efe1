# Sourced by benches/compare.sh and benches/run-cli.sh: counts written as
# 10M / 300k / 1_000_000.

# The count `$1` as a plain integer on stdout; status 1 when it is not one.
num() {
    local v="${1//_/}"
    case "$v" in
        *[kK]) v="${v%?}"; [[ "$v" =~ ^[0-9]+$ ]] || return 1; echo $(( v * 1000 )) ;;
        *[mM]) v="${v%?}"; [[ "$v" =~ ^[0-9]+$ ]] || return 1; echo $(( v * 1000000 )) ;;
        *) [[ "$v" =~ ^[0-9]+$ ]] || return 1; echo $(( v )) ;;
    esac
}
