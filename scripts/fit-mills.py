# The coefficients of the Mills ratio polynomials in runtime/vmath.h, R(x) = Q(x) / phi(x)
# (Q = 1 - Phi), as g(t) = x R(x) with t = 1/x^2, R computed in 60-digit decimals (Laplace's
# continued fraction, backward):
#   (default)  densrt_mills_poly: x >= 10, monomials in t on [0, 1/100], degree 11;
#   wide       densrt_mills_wide_inv: x >= 5, monomials in s = 50 t - 1 on t in [0, 1/25], degree 19.
# Each is the Chebyshev interpolant, its coefficients rounded to double; prints the error of
# that polynomial (evaluated exactly) on a fine grid, then the coefficients, lowest first.
# Run: /usr/bin/python3 scripts/fit-mills.py [wide]
import sys
from decimal import Decimal as D, getcontext
getcontext().prec = 60
def R(x):   # Laplace's continued fraction, backward, plenty of terms (converged at x = 5)
    t = x
    for k in range(1500, 0, -1):
        t = x + D(k) / t
    return 1 / t
def g(t):
    if t == 0: return D(1)
    x = (1 / t).sqrt()
    return x * R(x)
pi = D('3.14159265358979323846264338327950288419716939937510582097494')
def cos(z):  # decimal cosine by series
    z = z % (2 * pi); s = D(0); term = D(1); k = 0
    while True:
        s += term
        term = -term * z * z / ((2*k+1)*(2*k+2)); k += 1
        if abs(term) < D(10) ** -58: return s + term
def poly_mul(a, b):
    r = [D(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            r[i+j] += x * y
    return r
wide = len(sys.argv) > 1 and sys.argv[1] == 'wide'
N, T = (20, D(1) / 25) if wide else (12, D(1) / 100)
# the variable of the monomials on [-1, 1] (Chebyshev's) and on the polynomial's own scale:
# wide: s = 2t/T - 1 itself; default: t = (T/2)(u + 1)
to_u = [D(0), D(1)] if wide else [D(-1), D(2) / T]
nodes = [cos(pi * (2*j+1) / (2*N)) for j in range(N)]
vals = [g((T/2) * (1 + u)) for u in nodes]
cs = []
for k in range(N):
    s = sum(vals[j] * cos(pi * k * (2*j+1) / (2*N)) for j in range(N))
    cs.append(s * 2 / N)
cs[0] /= 2
Tk = [[D(1)], to_u]
for k in range(2, N):   # T_k = 2 u T_{k-1} - T_{k-2}, as polynomials in the monomials' variable
    nxt = poly_mul([2 * c for c in to_u], Tk[-1])
    prev = Tk[-2] + [D(0)] * (len(nxt) - len(Tk[-2]))
    Tk.append([a - b for a, b in zip(nxt, prev)])
coef = [D(0)] * N
for k in range(N):
    for i, a in enumerate(Tk[k]):
        coef[i] += cs[k] * a
dbl = [float(c) for c in coef]
worst = 0
for i in range(2001):
    t = T * i / 2000
    v = 2 * t / T - 1 if wide else t
    p = D(0)
    for c in reversed(dbl):
        p = p * v + D(c)
    worst = max(worst, abs((p - g(t)) / g(t)))
print("cheb coeffs tail:", [f"{float(c):.2e}" for c in cs[-4:]])
print("max rel err of double poly:", float(worst))
for c in dbl: print(repr(c))
