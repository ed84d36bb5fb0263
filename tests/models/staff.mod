# Staff scheduling (Winston's post office): each employee works 5 consecutive days and
# then has 2 days off, in a weekly cycle. Days are numbered 1..7 and wrap around with `mod`.
param ndays integer > 0;
param shift integer > 0, <= ndays;             # consecutive days worked
set DAYS := 1..ndays;
param req {DAYS} integer >= 0;                 # employees needed each day
param dayname {DAYS} symbolic;

var Start {DAYS} integer >= 0;                 # employees whose shift starts on day d

minimize Employees: sum {d in DAYS} Start[d];

# day d is covered by the shifts that started on days d, d-1, ..., d-shift+1 (cyclically)
subject to Cover {d in DAYS}:
   sum {s in 0..shift - 1} Start[(d - s - 1 + ndays) mod ndays + 1] >= req[d];

# which week the shift starting on day d+shift-1 ends in, via `div` (a data sanity check)
check {d in DAYS}: (d + shift - 2) div ndays <= 1;
check: length(dayname[1]) = 3 and substr(dayname[7], 1, 2) = "Su";
