{{/* Chart name, truncated to the 63 characters Kubernetes allows in names and label values. */}}
{{- define "perfotel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; the release name alone when it already contains the chart name. */}}
{{- define "perfotel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "perfotel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "perfotel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "perfotel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "perfotel.labels" -}}
helm.sh/chart: {{ include "perfotel.chart" . }}
{{ include "perfotel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: perfotel
{{- end }}

{{- define "perfotel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "perfotel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "perfotel.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* Name of the SQLite claim: an existing one or ours. */}}
{{- define "perfotel.claimName" -}}
{{- default (printf "%s-data" (include "perfotel.fullname" .)) .Values.storage.sqlite.persistence.existingClaim }}
{{- end }}

{{/* The collector's Privacy section as JSON (never the hash key: that comes from a Secret as an environment variable). */}}
{{- define "perfotel.privacyConfig" -}}
{{- $privacy := dict "CaptureContent" .Values.privacy.captureContent "AttributeAllowlist" .Values.privacy.attributeAllowlist }}
{{- with .Values.privacy.tenants }}
{{- $tenants := dict }}
{{- range $tenant, $overrides := . }}{{ $_ := set $tenants $tenant (dict "CaptureContent" $overrides.captureContent) }}{{ end }}
{{- $_ := set $privacy "Tenants" $tenants }}
{{- end }}
{{- toJson $privacy }}
{{- end }}

{{/*
User identifiers the collector stores only as keyed hashes: the list in src/Collector/Privacy/PrivacyAttributes.cs
(a test fails when the two drift apart).
*/}}
{{- define "perfotel.userIdentifiers" -}}
enduser.id enduser.pseudo.id user.id user.email user.name user.full_name gen_ai.openai.request.user
{{- end }}

{{/*
The user identifiers the allowlists admit, space-separated, with the collector's matching: an exact key, or a prefix
ending in "*". Both allowlists count, as in the collector: privacy.attributeAllowlist and any given under config.extra.
*/}}
{{- define "perfotel.admittedUserIdentifiers" -}}
{{- $entries := concat .Values.privacy.attributeAllowlist (dig "Privacy" "AttributeAllowlist" list .Values.config.extra) (dig "Otlp" "AttributeAllowlist" list .Values.config.extra) }}
{{- $admitted := list }}
{{- range $id := splitList " " (include "perfotel.userIdentifiers" .) }}
{{- range $entry := $entries }}
{{- if or (eq $entry $id) (and (hasSuffix "*" $entry) (hasPrefix (trimSuffix "*" $entry) $id)) }}
{{- $admitted = append $admitted $id }}
{{- end }}
{{- end }}
{{- end }}
{{- $admitted | uniq | join ", " }}
{{- end }}

{{/* Whether the pod gets PERFOTEL__Privacy__UserIdHashKey: from privacy.userIdHashKey or from extraEnv. */}}
{{- define "perfotel.hasUserIdHashKey" -}}
{{- $has := .Values.privacy.userIdHashKey.existingSecret }}
{{- range .Values.extraEnv }}{{ if eq (toString .name) "PERFOTEL__Privacy__UserIdHashKey" }}{{ $has = true }}{{ end }}{{ end }}
{{- if $has }}true{{ end }}
{{- end }}

{{/* Non-empty when a scheduled report writes files, so /reports is mounted. */}}
{{- define "perfotel.reportFiles" -}}
{{- range $name, $s := .Values.reports.schedules }}{{ if $s.directory }}{{ $name }}{{ end }}{{ end }}
{{- end }}

{{/* Fails rendering on value combinations that cannot work, naming the setting. */}}
{{- define "perfotel.validate" -}}
{{- if and (eq .Values.storage.provider "sqlite") (gt (int .Values.replicaCount) 1) }}
{{- fail "replicaCount > 1 needs storage.provider=postgres: the embedded SQLite store belongs to one pod" }}
{{- end }}
{{- if and (eq .Values.storage.provider "postgres") (not .Values.storage.postgres.existingSecret) }}
{{- fail "storage.postgres.existingSecret is required when storage.provider=postgres" }}
{{- end }}
{{- if and .Values.auth.enabled (not .Values.auth.existingSecret) }}
{{- fail "auth.existingSecret is required when auth.enabled=true: the Secret holding the JSON array of keys" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled .Values.auth.enabled (not .Values.metrics.port) (not (and .Values.serviceMonitor.authorization.secretName .Values.serviceMonitor.authorization.secretKey)) }}
{{- fail "serviceMonitor.authorization.secretName and secretKey are required when auth.enabled=true and metrics.port=0: /metrics then needs an admin key" }}
{{- end }}
{{- with include "perfotel.admittedUserIdentifiers" . }}
{{- if not (include "perfotel.hasUserIdHashKey" $) }}
{{- fail (printf "privacy.userIdHashKey.existingSecret is required: privacy.attributeAllowlist admits user identifiers (%s), which the collector stores only as keyed hashes and refuses to start without Privacy:UserIdHashKey" .) }}
{{- end }}
{{- end }}
{{- if dig "Privacy" "UserIdHashKey" "" .Values.config.extra }}
{{- fail "config.extra.Privacy.UserIdHashKey would put the hash key into the ConfigMap: store it in a Secret and name it in privacy.userIdHashKey.existingSecret" }}
{{- end }}
{{- range $name, $s := .Values.reports.schedules }}
{{- if not (or $s.webhookSecret $s.directory) }}
{{- fail (printf "reports.schedules.%s needs a destination: webhookSecret (the Secret holding the webhook URL), directory: true, or both" $name) }}
{{- end }}
{{- end }}
{{- if dig "Reports" "Schedules" "" .Values.config.extra }}
{{- range $name, $s := .Values.config.extra.Reports.Schedules }}
{{- if and (kindIs "map" $s) (hasKey $s "WebhookUrl") }}
{{- fail (printf "config.extra.Reports.Schedules.%s.WebhookUrl would put the webhook's token into the ConfigMap: use reports.schedules.%s.webhookSecret" $name $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.metrics.port (eq (int .Values.metrics.port) (int .Values.service.port)) }}
{{- fail "metrics.port must differ from service.port" }}
{{- end }}
{{- if and .Values.service.grpcPort (or (eq (int .Values.service.grpcPort) (int .Values.service.port)) (eq (int .Values.service.grpcPort) (int .Values.metrics.port))) }}
{{- fail "service.grpcPort must differ from service.port and metrics.port" }}
{{- end }}
{{- end }}
