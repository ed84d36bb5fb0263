# Multi-period production planning with inventory (after AMPL's steelT).
# Inventory carried into period 1 is data; later periods carry the variable Inv[p, t-1]:
# an `if` on data choosing between a param and a variable.
set PROD;
param T integer > 0;
set PERIODS := 1..T;

param rate {PROD} > 0;                      # tons per hour
param inv0 {PROD} >= 0;                     # initial inventory
param avail {PERIODS} >= 0;                 # hours available
param maint {PERIODS} >= 0, default 0;      # hours lost to maintenance
param prodcost {PROD} >= 0;
param invcost {PROD} >= 0;
param revenue {PROD, PERIODS} >= 0;
param market {PROD, PERIODS} >= 0;

# hours left after maintenance, never negative (`less` is max(a - b, 0))
param hours {t in PERIODS} := avail[t] less maint[t];
# stock left at the end of the horizon costs double (an `if` in a param)
param hold {p in PROD, t in PERIODS} := if t = T then 2 * invcost[p] else invcost[p];

check {t in PERIODS}: hours[t] <= avail[t];

var Make {PROD, PERIODS} >= 0;
var Inv {PROD, PERIODS} >= 0;
var Sell {p in PROD, t in PERIODS} >= 0, <= market[p, t];

maximize Total_Profit:
   sum {p in PROD, t in PERIODS}
      (revenue[p, t] * Sell[p, t] - prodcost[p] * Make[p, t] - hold[p, t] * Inv[p, t]);

subject to Time {t in PERIODS}: sum {p in PROD} (1 / rate[p]) * Make[p, t] <= hours[t];

subject to Balance {p in PROD, t in PERIODS}:
   Make[p, t] + (if t = 1 then inv0[p] else Inv[p, t - 1]) = Sell[p, t] + Inv[p, t];
