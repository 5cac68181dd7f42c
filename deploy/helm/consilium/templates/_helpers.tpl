{{/* Names, labels and the pieces every component's pod shares. */}}

{{- define "consilium.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "consilium.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "consilium.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "consilium.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The gRPC services and the gateway, in start order. */}}
{{- define "consilium.components" -}}
gateway identity anonymity content audit
{{- end -}}

{{- define "consilium.services" -}}
identity anonymity content audit
{{- end -}}

{{/* dict "root" $ "component" name */}}
{{- define "consilium.componentName" -}}
{{- printf "%s-%s" (include "consilium.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "consilium.selectorLabels" -}}
app.kubernetes.io/name: {{ include "consilium.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "consilium.labels" -}}
{{ include "consilium.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: consilium
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "consilium.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (default .Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret a component's secretEnv reads: its existingSecret, else the chart-made one. */}}
{{- define "consilium.secretName" -}}
{{- $c := index .root.Values .component -}}
{{- if $c.secret.existingSecret -}}
{{- $c.secret.existingSecret -}}
{{- else -}}
{{- include "consilium.componentName" . -}}
{{- end -}}
{{- end -}}

{{/* In-cluster address of a gRPC service: host:port. */}}
{{- define "consilium.address" -}}
{{- $c := index .root.Values .component -}}
{{- printf "%s:%d" (include "consilium.componentName" .) (int $c.port) -}}
{{- end -}}

{{/* Restricted pod security (PSS "restricted"): pod level. */}}
{{- define "consilium.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.uid }}
runAsGroup: {{ .Values.podSecurity.uid }}
fsGroup: {{ .Values.podSecurity.uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Restricted pod security: container level. */}}
{{- define "consilium.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment every container gets: Kafka (SASL/TLS per component) and OpenTelemetry. */}}
{{- define "consilium.kafkaEnv" -}}
{{- $k := .root.Values.kafka -}}
- name: CONSILIUM_KAFKA_BOOTSTRAP
  value: {{ required "kafka.bootstrap is required (the external Kafka's bootstrap servers)" $k.bootstrap | quote }}
- name: CONSILIUM_KAFKA_SECURITY_PROTOCOL
  value: {{ $k.securityProtocol | quote }}
{{- if hasPrefix "SASL" $k.securityProtocol }}
- name: CONSILIUM_KAFKA_SASL_MECHANISM
  value: {{ $k.sasl.mechanism | quote }}
- name: CONSILIUM_KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required with a SASL security protocol" $k.sasl.existingSecret }}
      key: {{ printf "%s-username" .principal }}
- name: CONSILIUM_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $k.sasl.existingSecret }}
      key: {{ printf "%s-password" .principal }}
{{- end }}
{{- if $k.tls.existingSecret }}
- name: CONSILIUM_KAFKA_SSL_CAFILE
  value: /etc/consilium/kafka-tls/ca.crt
{{- end }}
{{- end -}}

{{- define "consilium.otelEnv" -}}
{{- $o := .root.Values.otel -}}
- name: OTEL_SERVICE_NAME
  value: {{ printf "consilium-%s" .component | quote }}
{{- if $o.enabled }}
- name: OTEL_TRACES_EXPORTER
  value: otlp
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "otel.endpoint is required when otel.enabled" $o.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $o.protocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $o.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $o.samplerArg | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "service.namespace=consilium,deployment.environment=%s,k8s.namespace.name=%s%s" .root.Values.environment .root.Release.Namespace (ternary (printf ",%s" $o.resourceAttributes) "" (ne $o.resourceAttributes "")) | quote }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
{{- end -}}

{{/* secretEnv: variable name -> key of the component's Secret. */}}
{{- define "consilium.secretEnv" -}}
{{- $c := index .root.Values .component -}}
{{- $secret := include "consilium.secretName" . -}}
{{- range $name, $key := $c.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{/* Volumes every pod gets: a writable data dir and /tmp (the root is read-only), Kafka TLS. */}}
{{- define "consilium.volumes" -}}
- name: data
  emptyDir:
    sizeLimit: 256Mi
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .root.Values.kafka.tls.existingSecret }}
{{- end }}
{{- end -}}

{{- define "consilium.volumeMounts" -}}
- name: data
  mountPath: /var/lib/consilium
- name: tmp
  mountPath: /tmp
{{- if .root.Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/consilium/kafka-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* The gateway's persisted-operations manifest: the ConfigMap holding it ("" when none), after
checking the values make sense; `only` without a manifest would refuse every operation. */}}
{{- define "consilium.persistedConfigMap" -}}
{{- $p := .Values.gateway.persistedOperations }}
{{- range $name := list "CONSILIUM_GATEWAY_PERSISTED_MODE" "CONSILIUM_GATEWAY_PERSISTED_MANIFEST" }}
{{- if hasKey $.Values.gateway.env $name }}
{{- fail (printf "gateway.env.%s: set gateway.persistedOperations (mode, manifest or existingConfigMap) instead" $name) }}
{{- end }}
{{- end }}
{{- if and $p.manifest $p.existingConfigMap }}
{{- fail "gateway.persistedOperations: set manifest or existingConfigMap, not both" }}
{{- end }}
{{- if and (eq $p.mode "only") (not (or $p.manifest $p.existingConfigMap)) }}
{{- fail "gateway.persistedOperations.mode=only runs only the manifest's operations: give it one (--set-file gateway.persistedOperations.manifest=manifest.json from `consilium persisted build`, or .existingConfigMap)" }}
{{- end }}
{{- if $p.manifest }}
{{- if hasKey (fromJson $p.manifest) "Error" }}
{{- fail "gateway.persistedOperations.manifest is not JSON (give the file `consilium persisted build` wrote)" }}
{{- end }}
{{- include "consilium.componentName" (dict "root" . "component" "gateway-persisted-operations") }}
{{- else }}
{{- $p.existingConfigMap }}
{{- end }}
{{- end -}}
