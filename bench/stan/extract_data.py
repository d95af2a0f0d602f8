#!/usr/bin/python3
"""Write the GD-1 stars used by the model (gd1_phi2 > -7, 2960 rows) as CSV.
usage: extract_data.py OUT.csv"""
import sys
import numpy as np
from astropy.table import Table

t = Table.read("/work/shared/data/gd1-gaiadr3-blog.fits")
phi1 = np.asarray(t["gd1_phi1"], dtype=float)
phi2 = np.asarray(t["gd1_phi2"], dtype=float)
keep = phi2 > -7
np.savetxt(sys.argv[1], np.column_stack([phi1[keep], phi2[keep]]),
           delimiter=",", header="phi1,phi2", comments="", fmt="%.17g")
print(f"{keep.sum()} stars kept of {len(phi1)}; phi2 > 5: {(phi2[keep] > 5).sum()}")
