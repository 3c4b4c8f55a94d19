# Several unused locals in one body, and in later bodies: reported in the order OPA
# numbers its renamed locals (__local10__ sorts before __local2__).
package examples.unused_order

p if {
	a := 1
	b := 2
	c := 3
	d := 4
	e := 5
	f := 6
	g := 7
	h := 8
	i := 9
	j := 10
	k := 11
	l := 12
}
