pipeline {
  agent {
    docker {
      image 'maven:3-alpine'
      args '-v /root/.m2:/root/.m2'
    }
  }
  environment {
    CI = 'true'
    TOKEN = credentials('token-id')
  }
  options {
    timeout(time: 1, unit: 'HOURS')
    buildDiscarder(logRotator(numToKeepStr: '10'))
  }
  parameters {
    string(name: 'TARGET', defaultValue: 'dev', description: 'Where')
    booleanParam(name: 'DRY', defaultValue: true)
  }
  stages {
    stage('Test') {
      when { branch 'main' }
      steps {
        sh 'mvn -B test'
        script {
          def v = readYaml file: 'v.yaml'
          if (v.enabled) {
            echo "enabled: ${v.enabled}"
          } else if (v.other) {
            echo 'other'
          } else {
            error 'disabled'
          }
        }
      }
      post {
        always { junit 'target/*.xml' }
      }
    }
    stage('Parallel') {
      parallel {
        stage('A') { steps { sh 'a' } }
        stage('B') { steps { sh 'b' } }
      }
    }
  }
  post {
    failure {
      mail to: 'team@example.com', subject: "Failed: ${currentBuild.fullDisplayName}"
    }
  }
}
