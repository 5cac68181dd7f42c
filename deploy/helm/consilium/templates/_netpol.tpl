{{/* The privacy line: which component calls which over gRPC. Read from the code (the
`*_address` settings of each component); tests/deploy/test_chart.py derives the same table
from the code and compares it with the rendered policies. */}}
{{- define "consilium.callees" -}}
gateway: [identity, anonymity, content, audit]
identity: []
anonymity: [identity]
content: []
audit: [identity]
{{- end -}}

{{/* NetworkPolicy peers of something outside the chart: ipBlocks, or pod (+ namespace)
selectors. dict "target" <values with cidrs/podSelector/namespaceSelector> "what" <name> */}}
{{- define "consilium.externalPeers" -}}
{{- $t := .target -}}
{{- if $t.cidrs }}
{{- range $t.cidrs }}
- ipBlock:
    cidr: {{ . }}
{{- end }}
{{- else if or $t.podSelector $t.namespaceSelector }}
- {{- if $t.podSelector }}
  podSelector:
    matchLabels:
      {{- toYaml $t.podSelector | nindent 6 }}
  {{- end }}
  {{- if $t.namespaceSelector }}
  namespaceSelector:
    matchLabels:
      {{- toYaml $t.namespaceSelector | nindent 6 }}
  {{- end }}
{{- else }}
{{- fail (printf "networkPolicy: say where %s is (cidrs, podSelector or namespaceSelector)" .what) }}
{{- end }}
{{- end -}}

{{/* Egress every component and Job has: DNS, Kafka, the OTLP collector. */}}
{{- define "consilium.commonEgress" -}}
{{- $v := .Values -}}
- to:
    - namespaceSelector:
        matchLabels:
          {{- toYaml $v.networkPolicy.dns.namespaceSelector | nindent 10 }}
      podSelector:
        matchLabels:
          {{- toYaml $v.networkPolicy.dns.podSelector | nindent 10 }}
  ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
- to:
    {{- include "consilium.externalPeers" (dict "target" $v.kafka "what" "Kafka") | nindent 4 }}
  ports:
    {{- range $v.kafka.ports }}
    - {protocol: TCP, port: {{ . }}}
    {{- end }}
{{- if $v.otel.enabled }}
- to:
    {{- include "consilium.externalPeers" (dict "target" $v.otel.collector "what" "the OTLP collector") | nindent 4 }}
  ports:
    - {protocol: TCP, port: {{ $v.otel.collector.port }}}
{{- end }}
{{- end -}}

{{/* Egress to one component's own database. dict "root" $ "component" name */}}
{{- define "consilium.databaseEgress" -}}
{{- $c := index .root.Values .component -}}
- to:
    {{- include "consilium.externalPeers" (dict "target" $c.database "what" (printf "%s's database" .component)) | nindent 4 }}
  ports:
    - {protocol: TCP, port: {{ $c.database.port }}}
{{- end -}}
