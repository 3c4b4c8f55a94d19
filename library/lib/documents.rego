# The documents a query sees, whichever way the library is run.
#
# - Per document (conftest's default, `portcullis test`): input is one parsed document — a
#   Kubernetes object, or a Dockerfile's instruction list.
# - Combined (`conftest test --combine`): input is [{"path": file, "contents": document}, ...]
#   with one entry per document of every file.
# - A bare array of documents (e.g. `opa eval -i` of a multi-document file) or a Kubernetes
#   `kind: List` is treated as a collection too.
#
# Cross-document rules (a PodDisruptionBudget / NetworkPolicy for every workload) only report
# when the input is a collection: `collection` is true.
package portcullis_lib.documents

combined if {
	is_array(input)
	count(input) > 0
	every d in input {
		is_object(d)
		is_string(d.path)
		"contents" in object.keys(d)
	}
}

collection if combined

collection if {
	is_array(input)
	not combined
}

collection if input.kind == "List"

# Every document with the file it came from ("" unless the input is combined). An array, not a
# set: a set would hash every document on insertion, which is most of the cost per document.
docs := [{"path": d.path, "content": d.contents} | some d in input] if combined

else := [{"path": "", "content": input}]
