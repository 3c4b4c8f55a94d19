{{/* The image reference: repository@digest when a digest is given, else repository:tag. */}}
{{- define "portcullis.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "portcullis.labels" -}}
gatekeeper.sh/system: "yes"
app.kubernetes.io/name: portcullis
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- range $k, $v := .Values.commonLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* The labels that tell one operation's pods ("webhook" or "audit") apart. */}}
{{- define "portcullis.opLabels" -}}
control-plane: {{ if eq .op "webhook" }}controller-manager{{ else }}audit-controller{{ end }}
gatekeeper.sh/operation: {{ .op }}
{{- end -}}

{{/* Selector labels of one operation's pods. */}}
{{- define "portcullis.selector" -}}
{{ include "portcullis.opLabels" . }}
gatekeeper.sh/system: "yes"
{{- end -}}

{{/* Pod spec parts shared by both Deployments. */}}
{{- define "portcullis.podCommon" -}}
automountServiceAccountToken: true
priorityClassName: {{ .Values.priorityClassName }}
nodeSelector:
  {{- toYaml .Values.nodeSelector | nindent 2 }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* Environment shared by both containers. */}}
{{- define "portcullis.env" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if .nodeOptions }}
- name: NODE_OPTIONS
  value: {{ .nodeOptions | quote }}
{{- end }}
{{- end -}}

{{/* Probes on the health port. */}}
{{- define "portcullis.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: {{ .Values.ports.health }}
  periodSeconds: 10
  timeoutSeconds: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: {{ .Values.ports.health }}
  periodSeconds: 5
  timeoutSeconds: 3
{{- end -}}
