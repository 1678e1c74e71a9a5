{{/* Names: the release's full name, one name per component. */}}
{{- define "amphora.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "amphora.componentName" -}}
{{- printf "%s-%s" (include "amphora.fullname" .root) .component -}}
{{- end -}}

{{- define "amphora.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "amphora.labels" -}}
{{ include "amphora.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "amphora.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "amphora.masterKeySecret" -}}
{{- .Values.auth.masterKey.existingSecret | default (printf "%s-master-key" (include "amphora.fullname" .)) -}}
{{- end -}}

{{- define "amphora.adminKeySecret" -}}
{{- .Values.auth.adminKey.existingSecret | default (printf "%s-admin-key" (include "amphora.fullname" .)) -}}
{{- end -}}

{{- define "amphora.clusterSecret" -}}
{{- .Values.cluster.secret.existingSecret | default (printf "%s-cluster-secret" (include "amphora.fullname" .)) -}}
{{- end -}}

{{- define "amphora.ingesterHeadless" -}}
{{- printf "%s-ingester-headless" (include "amphora.fullname" .) -}}
{{- end -}}

{{/* The ring: every ingester pod by its stable name, name=host:port, from the replica count. */}}
{{- define "amphora.ringMembers" -}}
{{- $root := . -}}
{{- $members := list -}}
{{- range $i := until (int .Values.ingester.replicas) -}}
{{- $pod := printf "%s-ingester-%d" (include "amphora.fullname" $root) $i -}}
{{- $members = append $members (printf "%s=%s.%s.%s.svc.%s:%d" $pod $pod (include "amphora.ingesterHeadless" $root) $root.Release.Namespace $root.Values.clusterDomain (int $root.Values.ingester.grpcPort)) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{- define "amphora.compactorMembers" -}}
{{- $root := . -}}
{{- $members := list -}}
{{- range $i := until (int .Values.compactor.replicas) -}}
{{- $members = append $members (printf "%s-compactor-%d" (include "amphora.fullname" $root) $i) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{- define "amphora.rulerHeadlessDomain" -}}
{{- printf "%s-ruler-headless.%s.svc.%s" (include "amphora.fullname" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/* The rulers: every ruler pod by its stable host:port, which is also how each names itself (--ruler.name). */}}
{{- define "amphora.rulerMembers" -}}
{{- $root := . -}}
{{- $members := list -}}
{{- range $i := until (int .Values.ruler.replicas) -}}
{{- $members = append $members (printf "%s-ruler-%d.%s:%d" (include "amphora.fullname" $root) $i (include "amphora.rulerHeadlessDomain" $root) (int $root.Values.httpPort)) -}}
{{- end -}}
{{- join "," $members -}}
{{- end -}}

{{/* Arguments every component shares, the operator included: its listener, data directory and logs. */}}
{{- define "amphora.commonArgs" -}}
- --listen=0.0.0.0:{{ .Values.httpPort }}
- --data-dir=/data
- --log.level={{ .Values.log.level }}
- --log.format={{ .Values.log.format }}
{{- end -}}

{{/* Arguments of the cluster's components (not the operator): keys, the cluster secret, the bucket, limits. */}}
{{- define "amphora.clusterArgs" -}}
- --auth.master-key-file=/etc/amphora/master-key/master.key
- --auth.admin-key-file=/etc/amphora/admin-key/admin-key.json
- --cluster.secret-file=/etc/amphora/cluster-secret/secret
{{- if .Values.alertmanager.enabled }}
- --alertmanager.binary={{ .Values.alertmanager.binary }}
{{- end }}
{{- if eq .Values.storage.type "s3" }}
- --blocks.storage=s3
- --blocks.s3.bucket={{ required "storage.s3.bucket is required when storage.type is s3" .Values.storage.s3.bucket }}
- --blocks.s3.region={{ .Values.storage.s3.region }}
{{- with .Values.storage.s3.endpoint }}
- --blocks.s3.endpoint={{ . }}
{{- end }}
{{- if .Values.storage.s3.pathStyle }}
- --blocks.s3.path-style
{{- end }}
{{- with .Values.storage.s3.prefix }}
- --blocks.s3.prefix={{ . }}
{{- end }}
{{- else }}
- --blocks.storage=filesystem
- --blocks.filesystem.dir=/bucket
{{- end }}
{{- if .Values.limits.overrides }}
- --limits.overrides-file=/etc/amphora/limits/overrides.yaml
{{- end }}
{{- end -}}

{{/* The operator's arguments: the control plane it calls, the URLs clients are given, its Lease and collectors. */}}
{{- define "amphora.operatorArgs" -}}
{{- $querier := printf "http://%s.%s.svc.%s:%d" (include "amphora.componentName" (dict "root" . "component" "querier")) .Release.Namespace .Values.clusterDomain (int .Values.querier.service.port) -}}
{{- $distributor := printf "http://%s.%s.svc.%s:%d" (include "amphora.componentName" (dict "root" . "component" "distributor")) .Release.Namespace .Values.clusterDomain (int .Values.distributor.service.port) -}}
- --operator.amphora-url={{ $querier }}
- --operator.admin-key-file=/etc/amphora/admin-key/admin-key.json
- --operator.public-url={{ .Values.operator.queryBaseUrl | default $querier }}
- --operator.remote-write-url={{ .Values.operator.remoteWriteBaseUrl | default $distributor }}
- --operator.lease-namespace={{ .Release.Namespace }}
- --operator.collector-image={{ .Values.operator.collectorImage }}
{{- with .Values.operator.watchNamespace }}
- --operator.namespace={{ . }}
{{- end }}
{{- end -}}

{{- define "amphora.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- if and (eq .root.Values.storage.type "s3") .root.Values.storage.s3.existingSecret (ne .component "operator") }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.storage.s3.existingSecret }}
      key: {{ .root.Values.storage.s3.accessKeyIdKey }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.storage.s3.existingSecret }}
      key: {{ .root.Values.storage.s3.secretAccessKeyKey }}
{{- end }}
{{- range $name, $value := (index .root.Values .component).env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "amphora.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: master-key
  mountPath: /etc/amphora/master-key
  readOnly: true
- name: admin-key
  mountPath: /etc/amphora/admin-key
  readOnly: true
- name: cluster-secret
  mountPath: /etc/amphora/cluster-secret
  readOnly: true
{{- if .Values.limits.overrides }}
- name: limits
  mountPath: /etc/amphora/limits
  readOnly: true
{{- end }}
{{- if eq .Values.storage.type "filesystem" }}
- name: bucket
  mountPath: /bucket
{{- end }}
{{- end -}}

{{- define "amphora.volumes" -}}
- name: tmp
  emptyDir: {}
- name: master-key
  secret:
    secretName: {{ include "amphora.masterKeySecret" . }}
    items: [{ key: {{ .Values.auth.masterKey.secretKey }}, path: master.key }]
- name: admin-key
  secret:
    secretName: {{ include "amphora.adminKeySecret" . }}
    items: [{ key: admin-key.json, path: admin-key.json }]
- name: cluster-secret
  secret:
    secretName: {{ include "amphora.clusterSecret" . }}
    items: [{ key: {{ .Values.cluster.secret.secretKey }}, path: secret }]
{{- if .Values.limits.overrides }}
- name: limits
  configMap:
    name: {{ include "amphora.fullname" . }}-limits
{{- end }}
{{- if eq .Values.storage.type "filesystem" }}
- name: bucket
  persistentVolumeClaim:
    claimName: {{ .Values.storage.filesystem.existingClaim | default (printf "%s-bucket" (include "amphora.fullname" .)) }}
{{- end }}
{{- end -}}

{{/* The container every component runs: the same image, its own --target and arguments. */}}
{{- define "amphora.container" -}}
{{- $v := index .root.Values .component -}}
- name: {{ .component }}
  image: {{ include "amphora.image" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  args:
    - --target={{ .component }}
{{ include "amphora.commonArgs" .root | indent 4 }}
{{- if eq .component "operator" }}
{{ include "amphora.operatorArgs" .root | indent 4 }}
{{- else }}
{{ include "amphora.clusterArgs" .root | indent 4 }}
{{- end }}
{{- with .args }}
{{ toYaml . | indent 4 }}
{{- end }}
{{- with $v.extraArgs }}
{{ toYaml . | indent 4 }}
{{- end }}
  env:
{{ include "amphora.env" . | indent 4 }}
  ports:
    - name: http
      containerPort: {{ .root.Values.httpPort }}
{{- if eq .component "ingester" }}
    - name: grpc
      containerPort: {{ .root.Values.ingester.grpcPort }}
{{- end }}
  readinessProbe:
    httpGet: { path: /ready, port: http }
    periodSeconds: 5
    failureThreshold: 3
  startupProbe:
    httpGet: { path: /ready, port: http }
    periodSeconds: 5
    # An ingester replays its WAL before it is ready: allow it up to startupSeconds.
    failureThreshold: {{ div (int ($v.startupSeconds | default 300)) 5 }}
  livenessProbe:
    tcpSocket: { port: http }
    periodSeconds: 20
    failureThreshold: 6
  resources:
{{ toYaml $v.resources | indent 4 }}
  securityContext:
{{ toYaml .root.Values.containerSecurityContext | indent 4 }}
  volumeMounts:
{{- if eq .component "operator" }}
    - name: tmp
      mountPath: /tmp
    - name: admin-key
      mountPath: /etc/amphora/admin-key
      readOnly: true
{{- else }}
{{ include "amphora.volumeMounts" .root | indent 4 }}
{{- end }}
    - name: data
      mountPath: /data
{{- end -}}

{{- define "amphora.podSpecCommon" -}}
{{- $v := index .root.Values .component -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
{{ toYaml . | indent 2 }}
{{- end }}
securityContext:
{{ toYaml .root.Values.podSecurityContext | indent 2 }}
{{- with $v.nodeSelector }}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
{{ toYaml . | indent 2 }}
{{- end }}
terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds | default 60 }}
{{- end -}}
