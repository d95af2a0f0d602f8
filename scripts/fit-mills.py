# The coefficients of densrt_mills_tail() in runtime/vmath.h (x >= 10): a Chebyshev fit of g(t) = x R(x),
# t = 1/x^2 in [0, 1/100], R the Mills ratio computed in 60-digit decimals (Laplace's continued
# fraction, 600 terms).  Prints the error of the polynomial with the coefficients rounded to double.
# Run: /usr/bin/python3 scripts/fit-mills.py
from decimal import Decimal as D, getcontext
getcontext().prec = 60
def R(x):   # Laplace's continued fraction, backward, plenty of terms
    t = x
    for k in range(600, 0, -1):
        t = x + D(k) / t
    return 1 / t
def g(t):
    if t == 0: return D(1)
    x = (1 / t).sqrt()
    return x * R(x)
import math
pi = D('3.14159265358979323846264338327950288419716939937510582097494')
def cos(z):  # decimal cosine by series
    z = z % (2 * pi); s = D(0); term = D(1); k = 0
    while True:
        s += term
        term = -term * z * z / ((2*k+1)*(2*k+2)); k += 1
        if abs(term) < D(10) ** -58: return s + term
N = 12
T = D(1) / 100
nodes = [(T/2) * (1 + cos(pi * (2*j+1) / (2*N))) for j in range(N)]
vals = [g(t) for t in nodes]
# Chebyshev coefficients c_k
cs = []
for k in range(N):
    s = sum(vals[j] * cos(pi * k * (2*j+1) / (2*N)) for j in range(N))
    cs.append(s * 2 / N)
cs[0] /= 2
# to monomials in t: T_k(2t/T - 1)
def poly_mul(a, b):
    r = [D(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            r[i+j] += x * y
    return r
s_map = [D(-1), D(2) / T]   # u = 2t/T - 1
Tk = [[D(1)], s_map]
for k in range(2, N):
    nxt = poly_mul([D(0), D(2)/T], Tk[-1])  # careful: 2 u T_{k-1} - T_{k-2}
    nxt = poly_mul([D(-2), D(4)/T], Tk[-1])
    prev = Tk[-2] + [D(0)] * (len(nxt) - len(Tk[-2]))
    Tk.append([a - b for a, b in zip(nxt, prev)])
coef = [D(0)] * N
for k in range(N):
    for i, a in enumerate(Tk[k]):
        coef[i] += cs[k] * a
dbl = [float(c) for c in coef]
# error of the double-coefficient polynomial (exact evaluation) on a fine grid
worst = 0
for i in range(2001):
    t = T * i / 2000
    p = D(0)
    for c in reversed(dbl):
        p = p * t + D(c)
    e = abs((p - g(t)) / g(t))
    worst = max(worst, e)
print("cheb coeffs tail:", [f"{float(c):.2e}" for c in cs[-4:]])
print("max rel err of double poly:", float(worst))
for c in dbl: print(repr(c))
