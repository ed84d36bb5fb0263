# A small job shop: each job visits the machines in its own order; a machine does one
# operation at a time. Disjunctions between two jobs on a machine use big-M binaries.
set JOBS;
set MACH;
param nops integer > 0 := card(MACH);
param route {JOBS, 1..nops} symbolic in MACH;  # route[j, s]: the machine of job j's s-th step
param proc {JOBS, MACH} >= 0;                  # processing times

# each job visits each machine exactly once
check {j in JOBS, m in MACH}: exists {s in 1..nops} route[j, s] = m;

param M := sum {j in JOBS, m in MACH} proc[j, m];  # big-M: the length of a serial schedule
set PAIRS := {j in JOBS, k in JOBS: ord(j, JOBS) < ord(k, JOBS)};

var Start {JOBS, MACH} >= 0;
var Makespan >= 0;
var Before {PAIRS, MACH} binary;               # 1 when j goes before k on machine m

minimize Finish: Makespan;

subject to Route {j in JOBS, s in 1..nops - 1}:
   Start[j, route[j, s]] + proc[j, route[j, s]] <= Start[j, route[j, s + 1]];

subject to Last {j in JOBS}: Start[j, route[j, nops]] + proc[j, route[j, nops]] <= Makespan;

subject to JFirst {(j, k) in PAIRS, m in MACH}:
   Start[j, m] + proc[j, m] <= Start[k, m] + M * (1 - Before[j, k, m]);
subject to KFirst {(j, k) in PAIRS, m in MACH}:
   Start[k, m] + proc[k, m] <= Start[j, m] + M * Before[j, k, m];
