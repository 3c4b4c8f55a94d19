# Aliased imports are reported with their alias.
package examples.unused_alias

import data.lib.images as img
import input.request.object as obj

allow if obj.kind == "Pod"
