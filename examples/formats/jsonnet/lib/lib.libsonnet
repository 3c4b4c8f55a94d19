{
  port: 8080,
  labels(name):: { app: name, tier: 'backend' },
}
