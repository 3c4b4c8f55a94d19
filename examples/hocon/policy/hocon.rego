package main

deny contains "akka.loglevel DEBUG is too verbose for production" if input.akka.loglevel == "DEBUG"

warn contains msg if {
	count(input.akka.cluster["seed-nodes"]) < 2
	msg := "a cluster needs at least two seed nodes to survive a restart of one"
}

warn_bind_all contains "remote artery binds to every interface (0.0.0.0)" if {
	input.akka.remote.artery.canonical.hostname == "0.0.0.0"
}
