# More than ten errors: opa stops at ten and says so.
package examples.error_limit

a if { x1 := 1 }
b if { x2 := 1 }
c if { x3 := 1 }
d if { x4 := 1 }
e if { x5 := 1 }
f if { x6 := 1 }
g if { x7 := 1 }
h if { x8 := 1 }
i if { x9 := 1 }
j if { x10 := 1 }
k if { x11 := 1 }
l if { x12 := 1 }
