# An ACI-style confidential container policy, written for this bench after the public
# description of Azure Container Instances confidential containers policies (the guest agent
# asks the policy before each action: mount a layer device, mount an overlay of layers, create
# a container, exec in it; every answer is an object with `allowed` and metadata updates the
# agent stores in data.metadata). Not a copy of Microsoft's framework.
package aci

default mount_device := {"allowed": false}

mount_device := {"allowed": true, "metadata": [{"name": "devices", "action": "add", "key": input.target, "value": input.deviceHash}]} if {
	not data.metadata.devices[input.target]
	some c in data.policy.containers
	input.deviceHash in c.layers
}

default mount_overlay := {"allowed": false}

mount_overlay := {"allowed": true, "metadata": [
	{"name": "matches", "action": "add", "key": input.containerID, "value": candidates},
	{"name": "overlayTargets", "action": "add", "key": input.target, "value": true},
]} if {
	not data.metadata.overlayTargets[input.target]
	hashes := [h | some p in input.layerPaths; h := data.metadata.devices[p]]
	count(hashes) == count(input.layerPaths)
	candidates := [c | some c in data.policy.containers; layers_match(c.layers, hashes)]
	count(candidates) > 0
}

# The overlay lists layers top first; the policy lists them bottom first.
layers_match(policy_layers, overlay) if {
	count(policy_layers) == count(overlay)
	every i, h in overlay {
		policy_layers[(count(policy_layers) - i) - 1] == h
	}
}

env_matches(rule, env) if {
	rule.strategy == "string"
	rule.pattern == env
}

env_matches(rule, env) if {
	rule.strategy == "re2"
	regex.match(rule.pattern, env)
}

env_allowed(c, env) if {
	some rule in c.env_rules
	env_matches(rule, env)
}

required_present(c) if {
	every rule in c.env_rules {
		rule_satisfied(rule)
	}
}

rule_satisfied(rule) if not rule.required

rule_satisfied(rule) if {
	rule.required
	some env in input.envList
	env_matches(rule, env)
}

command_ok(c) if c.command == input.argList

workdir_ok(c) if c.working_dir == input.workingDir

mount_ok(c, m) if {
	some pm in c.mounts
	pm.destination == m.destination
	pm.type == m.type
	pm.options == m.options
	source := replace(pm.source, data.sandboxPrefix, input.sandboxDir)
	source == m.source
}

mounts_ok(c) if {
	every m in input.mounts {
		mount_ok(c, m)
	}
}

caps_ok(c) if {
	c.allow_elevated
	c.capabilities == input.capabilities
}

caps_ok(c) if {
	not c.allow_elevated
	input.privileged == false
	every _, caps in input.capabilities {
		every cap in caps {
			cap in data.defaultUnprivilegedCapabilities
		}
	}
}

env_list(c) := [env | some env in input.envList; env_allowed(c, env)]

candidates := [c |
	some c in data.metadata.matches[input.containerID]
	command_ok(c)
	workdir_ok(c)
	caps_ok(c)
	mounts_ok(c)
	required_present(c)
	count(env_list(c)) == count(input.envList)
]

default create_container := {"allowed": false}

create_container := {
	"allowed": true,
	"env_list": env_list(candidates[0]),
	"allow_stdio_access": candidates[0].allow_stdio_access,
	"metadata": [
		{"name": "matches", "action": "update", "key": input.containerID, "value": candidates},
		{"name": "started", "action": "add", "key": input.containerID, "value": {"privileged": input.privileged}},
	],
} if {
	not data.metadata.started[input.containerID]
	count(candidates) > 0
}

default exec_in_container := {"allowed": false}

exec_in_container := {"allowed": true} if {
	data.metadata.started[input.containerID]
	some c in data.metadata.matches[input.containerID]
	some p in c.exec_processes
	p.command == input.argList
	every env in input.envList {
		env_allowed(c, env)
	}
}
