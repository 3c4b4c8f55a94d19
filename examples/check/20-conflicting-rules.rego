# A function and a rule of the same name, and functions of two arities.
package examples.conflicting

f(x) := x + 1

f := 3

g(x) := x

g(x, y) := x + y
