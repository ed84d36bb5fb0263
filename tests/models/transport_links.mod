# Transportation over a sparse set of links (AMPL's transp3 style).
# Supplies and demands come with their sets from `param:` blocks; the links and their costs
# come from one `param: LINKS: cost` block, which defines the tuple set at the same time.
set ORIG;                                  # origins (steel mills)
set DEST;                                  # destinations (factories)
set LINKS within ORIG cross DEST;          # the routes that exist

param supply {ORIG} >= 0;
param demand {DEST} >= 0;
param cost {LINKS} >= 0;                   # shipping cost per ton

check: sum {i in ORIG} supply[i] >= sum {j in DEST} demand[j];
# every destination must be reachable (the dummy j is bound: only links into j count)
check {j in DEST}: exists {(i, j) in LINKS} cost[i, j] >= 0;

var Trans {LINKS} >= 0;                    # tons shipped

minimize Total_Cost: sum {(i, j) in LINKS} cost[i, j] * Trans[i, j];

subject to Supply {i in ORIG}: sum {(i, j) in LINKS} Trans[i, j] <= supply[i];
subject to Demand {j in DEST}: sum {(i, j) in LINKS} Trans[i, j] >= demand[j];
