#!/usr/bin/env groovy
@Library('shared-lib@main') _
import groovy.json.JsonSlurper
import static java.lang.Math.*
def config = [name: 'svc', replicas: 3, tags: ['a', 'b'], nested: [x: 1]]
def empty = [:]
def list = []
String s = "hello ${config.name}"
int n = 5
def (a, b) = [1, 2]
def greet(String who, int times = 1) {
  return "hi $who" * times
}
def x = config?.name ?: 'default'
def y = n > 3 ? 'big' : 'small'
def r = (1..10).findAll { it % 2 == 0 }.collect { it * 2 }
def m = ~/ab+c/
def matched = 'abbc' ==~ /ab+c/
def slashy = /a\/b/
def dollar = $/x/y$/
def multi = '''line1
line2'''
def gmulti = """
  text ${n}
  more $s.length
"""
println greet('bob', times: 2)
env.FOO = "bar"
currentBuild.result = 'SUCCESS'
list << 3
n++
--n
!true
def cl = { String p, q -> p + q }
def cl2 = { -> 42 }
assert n == 5 : "n is wrong"
