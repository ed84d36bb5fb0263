# A blending LP whose ingredient data come from a CSV file through a `table ... IN`
# statement, followed by GMPL-style script statements that run after the solve.
set INGR;                                    # ingredients, read from the table's key column
param price {INGR} >= 0;                     # cost per kg
param protein {INGR} >= 0;                   # protein fraction
param fat {INGR} >= 0;                       # fat fraction
param stock {INGR} >= 0;                     # kg available

table ingredients IN "CSV" "blend_ingredients.csv":
   INGR <- [name], price ~ cost, protein, fat, stock;

param batch := 100;                          # kg to produce
param min_protein := 0.22;
param max_fat := 0.06;

var Use {i in INGR} >= 0, <= stock[i];

minimize Cost: sum {i in INGR} price[i] * Use[i];

subject to Batch: sum {i in INGR} Use[i] = batch;
subject to Protein: sum {i in INGR} protein[i] * Use[i] >= min_protein * batch;
subject to Fat: sum {i in INGR} fat[i] * Use[i] <= max_fat * batch;

solve;
display Use;
printf "cost %.4f\n", sum {i in INGR} price[i] * Use[i];
printf {i in INGR}: "use %s %.4f\n", i, Use[i];
for {i in INGR: protein[i] >= 0.3} {
   printf "rich %s\n", i;
}
end;
