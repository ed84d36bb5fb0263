# The diet problem (AMPL book, chapter 2): buy foods at least cost to meet nutrient bounds.
set NUTR;
set FOOD;

param cost {FOOD} > 0;
param f_min {FOOD} >= 0, default 0;
param f_max {j in FOOD} >= f_min[j], default 100;

param n_min {NUTR} >= 0;
param n_max {i in NUTR} >= n_min[i];

param amt {NUTR, FOOD} >= 0;               # given transposed in the data: rows are foods

var Buy {j in FOOD} >= f_min[j], <= f_max[j];

minimize Total_Cost: sum {j in FOOD} cost[j] * Buy[j];

subject to Diet {i in NUTR}:
   n_min[i] <= sum {j in FOOD} amt[i, j] * Buy[j] <= n_max[i];
