{{/*
Names, labels and the shared pieces of the pod specs. Every template of the
chart goes through these, so that names, selectors and security settings
cannot drift apart between the API, the projector and the migration Job.
*/}}

{{/* The chart's name, or nameOverride. */}}
{{- define "motcua.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name, the prefix of every resource: "<release>-motcua",
or the release name alone when it already contains the chart's name.
Kept to 52 characters so that suffixes such as "-projector" stay within
Kubernetes' 63.
*/}}
{{- define "motcua.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "motcua-0.1.0", for the helm.sh/chart label. */}}
{{- define "motcua.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select a release's pods; never change between upgrades. */}}
{{- define "motcua.selectorLabels" -}}
app.kubernetes.io/name: {{ include "motcua.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of every resource. */}}
{{- define "motcua.labels" -}}
helm.sh/chart: {{ include "motcua.chart" . }}
{{ include "motcua.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: motcua
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
A component's selector labels: (dict "root" $ "component" "api").
*/}}
{{- define "motcua.componentSelectorLabels" -}}
{{ include "motcua.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* A component's labels: (dict "root" $ "component" "api"). */}}
{{- define "motcua.componentLabels" -}}
{{ include "motcua.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The ServiceAccount of the API and projector pods. */}}
{{- define "motcua.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "motcua.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The migration hook's ServiceAccount: its own, created by a hook, because the
release's resources do not exist yet when a pre-install hook runs.
*/}}
{{- define "motcua.migrationServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- printf "%s-migrate" (include "motcua.fullname" .) }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "repository:tag", or "repository@digest" when a digest pins it. */}}
{{- define "motcua.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding the database URLs: the operator's, or the trial one the chart makes. */}}
{{- define "motcua.databaseSecretName" -}}
{{- if .Values.database.existingSecret }}
{{- .Values.database.existingSecret }}
{{- else }}
{{- printf "%s-database" (include "motcua.fullname" .) }}
{{- end }}
{{- end }}

{{/* Whether the chart creates the trial database Secret. */}}
{{- define "motcua.createDatabaseSecret" -}}
{{- if and (not .Values.database.existingSecret) .Values.database.url .Values.database.migrationUrl }}true{{ end }}
{{- end }}

{{/* Whether the identity provider's settings come from plain values (not a Secret). */}}
{{- define "motcua.plainAuth" -}}
{{- if and (not .Values.auth.developmentTokens) (not .Values.auth.existingSecret) }}true{{ end }}
{{- end }}

{{/*
The OTLP collector's port: networkPolicy.otlp.port, else the endpoint's
port, else OTLP/HTTP's 4318.
*/}}
{{- define "motcua.otlpPort" -}}
{{- if .Values.networkPolicy.otlp.port }}
{{- .Values.networkPolicy.otlp.port | int }}
{{- else }}
{{- $host := (urlParse .Values.telemetry.otlpEndpoint).host }}
{{- if contains ":" $host }}
{{- last (splitList ":" $host) | int }}
{{- else if hasPrefix "https:" .Values.telemetry.otlpEndpoint }}443
{{- else }}4318
{{- end }}
{{- end }}
{{- end }}

{{/*
Fails rendering, with a message that says what to set, when the values
cannot make a working deployment. Included by every workload template.
*/}}
{{- define "motcua.validate" -}}
{{- $db := .Values.database }}
{{- if not (and $db.url $db.migrationUrl) }}
{{- $_ := required "database.existingSecret is required: the name of a Secret holding DATABASE_URL (the application login, a member of motcua_app) and MIGRATION_DATABASE_URL (the owner login, for migrations). For a trial only, database.url and database.migrationUrl together make the chart create that Secret." $db.existingSecret }}
{{- end }}
{{- with $db.readReplica }}
{{- if .enabled }}
{{- if or (eq .urlKey $db.urlKey) (eq .urlKey $db.migrationUrlKey) }}
{{- fail (printf "database.readReplica.urlKey must name a key of its own, not %s: the replica's URL (the application login at the replica's host), beside DATABASE_URL and MIGRATION_DATABASE_URL." .urlKey) }}
{{- end }}
{{- if not $db.existingSecret }}
{{- $_ := required "database.readReplica.url is required with database.readReplica.enabled when the chart creates the database Secret (trial): the replica's URL for the application login; or name the Secret holding it in database.existingSecret." .url }}
{{- end }}
{{- end }}
{{- end }}
{{- $auth := .Values.auth }}
{{- if $auth.developmentTokens }}
{{- if or $auth.jwksUrl $auth.existingSecret }}
{{- fail "auth.developmentTokens is for a trial without an identity provider: unset it, or unset auth.jwksUrl and auth.existingSecret." }}
{{- end }}
{{- if or .Values.autoscaling.enabled (gt (int .Values.api.replicas) 1) }}
{{- fail "auth.developmentTokens needs api.replicas 1 and autoscaling.enabled false: each API pod would sign development tokens with a key of its own." }}
{{- end }}
{{- else if not $auth.existingSecret }}
{{- $message := "the identity provider is required: set auth.jwksUrl, auth.issuer and auth.audience (or auth.existingSecret holding them); auth.developmentTokens=true is for a trial only." }}
{{- $_ := required (printf "auth.jwksUrl: %s" $message) $auth.jwksUrl }}
{{- $_ := required (printf "auth.issuer: %s" $message) $auth.issuer }}
{{- $_ := required (printf "auth.audience: %s" $message) $auth.audience }}
{{- end }}
{{- $pdb := .Values.podDisruptionBudget }}
{{- if and $pdb.enabled (not (kindIs "invalid" $pdb.minAvailable)) (not (kindIs "invalid" $pdb.maxUnavailable)) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both (set the other to null)." }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.hosts: at least one host is required when ingress.enabled is true, e.g. [{host: motcua.tinh.gov.vn}]." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "autoscaling.maxReplicas must be at least autoscaling.minReplicas." }}
{{- end }}
{{- end }}

{{/*
The read replica's URL (MOTCUA_READ_DATABASE_URL), for the API container
only: the projector and the migration Job always work on the primary.
Empty unless database.readReplica.enabled.
*/}}
{{- define "motcua.readReplicaEnv" -}}
{{- if .Values.database.readReplica.enabled -}}
- name: MOTCUA_READ_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "motcua.databaseSecretName" . }}
      key: {{ .Values.database.readReplica.urlKey }}
{{- end }}
{{- end }}

{{/* The settings every motcua container reads: the ConfigMap, and the Secrets' keys. */}}
{{- define "motcua.env" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "motcua.databaseSecretName" . }}
      key: {{ .Values.database.urlKey }}
{{- with .Values.telemetry.otlpHeadersSecret.name }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.telemetry.otlpHeadersSecret.key }}
{{- end }}
{{- end }}

{{/*
Resource attributes of the exported spans (OTEL_RESOURCE_ATTRIBUTES): where
they come from (namespace, pod, component), then telemetry.resourceAttributes.
(dict "root" $ "component" "api")
*/}}
{{- define "motcua.otelEnv" -}}
{{- $root := .root -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- $attributes := list (printf "k8s.namespace.name=%s" $root.Release.Namespace) "k8s.pod.name=$(POD_NAME)" "service.instance.id=$(POD_NAME)" (printf "motcua.component=%s" .component) }}
{{- range $name, $value := $root.Values.telemetry.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $name (toString $value)) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- end }}

{{/* The pod-level settings shared by every pod of the release. */}}
{{- define "motcua.podSecurity" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* The read-only root filesystem's writable /tmp: the volume, then its mount. */}}
{{- define "motcua.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "motcua.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
Where the PostgreSQL CA of database.tls.caSecret is mounted: the URLs name
the file in it, ?sslmode=verify-full&sslrootcert=/etc/motcua/postgres-ca/ca.crt.
*/}}
{{- define "motcua.postgresCaDir" -}}
/etc/motcua/postgres-ca
{{- end }}

{{/*
The volumes of every pod that connects to the database (API, projector,
migration Job): /tmp, and the PostgreSQL CA when database.tls.caSecret is
set. Only the CA's key is projected, as ca.crt: a Secret made by
cert-manager also holds tls.key, which these pods have no use for.
*/}}
{{- define "motcua.volumes" -}}
{{ include "motcua.tmpVolume" . }}
{{- with .Values.database.tls.caSecret }}
- name: postgres-ca
  secret:
    secretName: {{ . }}
    items:
      - key: {{ $.Values.database.tls.caKey | quote }}
        path: ca.crt
    defaultMode: 0444
{{- end }}
{{- end }}

{{/* Their mounts, in the same order. */}}
{{- define "motcua.volumeMounts" -}}
{{ include "motcua.tmpMount" . }}
{{- if .Values.database.tls.caSecret }}
- name: postgres-ca
  mountPath: {{ include "motcua.postgresCaDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* A number, or a quoted percentage such as "50%" (IntOrString fields). */}}
{{- define "motcua.intOrString" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else }}{{ . | int }}{{ end }}
{{- end }}

{{/*
Egress rules of a release's pod: DNS, PostgreSQL, the read replica (the API
only, when database.readReplica.enabled), the identity provider (the API
only) and the OTLP collector (when set; not for the migration, which
exports no traces), then the extra rules. The replica's rule takes
networkPolicy.database's port and peers where networkPolicy.readReplica
leaves them unset, and is left out when it would repeat the database's.
(dict "root" $ "readReplica" true "identityProvider" true "otlp" true)
*/}}
{{- define "motcua.egressRules" -}}
{{- $np := .root.Values.networkPolicy -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $np.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
- ports:
    - port: {{ $np.database.port | int }}
      protocol: TCP
  {{- with $np.database.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- if and .readReplica .root.Values.database.readReplica.enabled }}
{{- $port := $np.database.port | int }}
{{- if not (kindIs "invalid" $np.readReplica.port) }}
{{- $port = $np.readReplica.port | int }}
{{- end }}
{{- if or (ne $port ($np.database.port | int)) $np.readReplica.to }}
- ports:
    - port: {{ $port }}
      protocol: TCP
  {{- with (default $np.database.to $np.readReplica.to) }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- if .identityProvider }}
- ports:
    - port: {{ $np.identityProvider.port | int }}
      protocol: TCP
  {{- with $np.identityProvider.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if and .otlp .root.Values.telemetry.otlpEndpoint }}
- ports:
    - port: {{ include "motcua.otlpPort" .root }}
      protocol: TCP
  {{- with $np.otlp.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- with $np.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end }}
