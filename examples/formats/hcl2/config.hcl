# Packer/Nomad style HCL
job "web" {
  datacenters = ["dc1"]
  group "app" {
    count = 2
    task "server" {
      driver = "docker"
      config {
        image = "nginx:${var.tag}"
        ports = ["http"]
      }
      resources {
        cpu    = 500
        memory = 256
      }
    }
  }
}
