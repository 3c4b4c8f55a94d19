node('linux') {
  stage('Checkout') {
    checkout scm
  }
  try {
    stage('Build') {
      sh """
        make build VERSION=${env.BUILD_NUMBER}
      """
      withCredentials([usernamePassword(credentialsId: 'creds', usernameVariable: 'U', passwordVariable: 'P')]) {
        sh 'docker login -u $U -p $P'
      }
    }
  } catch (Exception e) {
    currentBuild.result = 'FAILURE'
    throw e
  } finally {
    cleanWs()
  }
  for (int i = 0; i < 3; i++) {
    echo "i=${i}"
  }
  for (f in files) { echo f }
  while (retries > 0) { retries-- }
  switch (env.BRANCH_NAME) {
    case 'main':
      deploy()
      break
    case ~/release-.*/:
      release()
      break
    default:
      echo 'nothing'
  }
  parallel(
    a: { sh 'a' },
    b: { sh 'b' }
  )
  def files = findFiles(glob: '**/*.yaml')
  files.each { f ->
    echo f.name
  }
  timeout(time: 5, unit: 'MINUTES') {
    input message: 'Deploy?', ok: 'Yes'
  }
}
