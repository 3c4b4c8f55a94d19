local port = 8080;
local labels = { app: 'checkout', tier: 'backend' };
{
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'checkout', labels: labels },
  spec: {
    type: 'LoadBalancer',
    selector: labels,
    ports: [{ port: 80, targetPort: port }],
  },
}
