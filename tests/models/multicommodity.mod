# Minimum-cost multi-commodity flow over a sparse arc set.
# NODES is derived from the arcs with `setof`; inside `{k in K, i in NODES}` the sums over
# `(i, j) in ARCS` and `(j, i) in ARCS` range only over the arcs leaving / entering node i,
# because a dummy that is already bound matches its value (AMPL's rule).
set ARCS dimen 2;
set NODES := setof {(i, j) in ARCS} i union setof {(i, j) in ARCS} j;
set K;                                          # commodities

param cap {ARCS} >= 0;                          # joint capacity of an arc
param cost {K, ARCS} >= 0, default 1;           # cost per unit of commodity k on an arc
param supply {K, NODES} default 0;              # > 0 at sources, < 0 at sinks

check {k in K}: sum {i in NODES} supply[k, i] = 0;
check: forall {(i, j) in ARCS} i != j;          # no self-loops

var Flow {K, ARCS} >= 0;

minimize Total_Cost: sum {k in K, (i, j) in ARCS} cost[k, i, j] * Flow[k, i, j];

subject to Balance {k in K, i in NODES}:
   sum {(i, j) in ARCS} Flow[k, i, j] - sum {(j, i) in ARCS} Flow[k, j, i] = supply[k, i];

subject to Capacity {(i, j) in ARCS}: sum {k in K} Flow[k, i, j] <= cap[i, j];
