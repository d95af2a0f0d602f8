# The polynomial of densrt_exp_inline() in runtime/vmath.h: the Chebyshev interpolant of exp on
# [-ln2/2, ln2/2] of degree 11 in 60-digit decimals, as monomial coefficients rounded to double;
# prints the error of that polynomial.  Run: /usr/bin/python3 scripts/fit-exp.py
from decimal import Decimal as D, getcontext
getcontext().prec = 60
pi = D('3.14159265358979323846264338327950288419716939937510582097494')
ln2 = D('0.693147180559945309417232121458176568075500134360255254120680')
def cos(z):
    z = z % (2 * pi); s = D(0); term = D(1); k = 0
    while True:
        s += term
        term = -term * z * z / ((2*k+1)*(2*k+2)); k += 1
        if abs(term) < D(10) ** -58: return s + term
def exp(z):
    s = D(0); term = D(1); k = 0
    while abs(term) > D(10) ** -58:
        s += term; k += 1; term = term * z / k
    return s
N = 12
R = ln2 / 2
nodes = [R * cos(pi * (2*j+1) / (2*N)) for j in range(N)]
vals = [exp(x) for x in nodes]
cs = []
for k in range(N):
    cs.append(sum(vals[j] * cos(pi * k * (2*j+1) / (2*N)) for j in range(N)) * 2 / N)
cs[0] /= 2
def pmul(a, b):
    r = [D(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b): r[i+j] += x * y
    return r
Tk = [[D(1)], [D(0), 1 / R]]
for k in range(2, N):
    nxt = pmul([D(0), 2 / R], Tk[-1]); prev = Tk[-2] + [D(0)] * (len(nxt) - len(Tk[-2]))
    Tk.append([a - b for a, b in zip(nxt, prev)])
coef = [D(0)] * N
for k in range(N):
    for i, a in enumerate(Tk[k]): coef[i] += cs[k] * a
dbl = [float(c) for c in coef]
worst = 0
for i in range(-1000, 1001):
    x = R * i / 1000
    p = D(0)
    for c in reversed(dbl): p = p * x + D(c)
    worst = max(worst, abs((p - exp(x)) / exp(x)))
print("max rel err (exact evaluation, double coefficients):", float(worst))
for c in dbl: print(repr(c))
